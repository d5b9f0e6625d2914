import { openStore, type Store } from '../../state/store.ts';

// Which proxies asked for Basic before (state/store.ts: $XDG_CACHE_HOME/burrow/basic-proxies.json), so that a later
// run may send Basic with its first CONNECT and save a round trip. Without this memory (or --proxy-auth basic) the
// first CONNECT goes without credentials and the proxy's 407 decides: a proxy that wants NTLM must never see a
// Windows password in cleartext base64 because burrow guessed. Keys name the proxy without credentials; nothing of
// the password is kept.

const TTL_MS = 30 * 24 * 60 * 60 * 1000;

type Env = Readonly<Record<string, string | undefined>>;

function store(env: Env): Store<'basic'> {
  return openStore<'basic'>(env, 'basic-proxies', { ttlMs: TTL_MS, maxEntries: 50 });
}

/** Whether `proxy` (as displayProxy names it) answered a CONNECT with a 407 that burrow then answered with Basic. */
export function askedForBasic(env: Env, proxy: string): boolean {
  return store(env).get(proxy)?.value === 'basic';
}

export function rememberAskedForBasic(env: Env, proxy: string): void {
  store(env).set(proxy, 'basic');
}

/** The proxy no longer offers Basic (its 407 named other schemes only): ask first again next time. */
export function forgetAskedForBasic(env: Env, proxy: string): void {
  store(env).delete(proxy);
}
