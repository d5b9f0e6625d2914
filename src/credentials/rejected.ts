import { BurrowError } from '../errors.ts';
import { clockTime, keyedDigest, openStore, type Store } from '../state/store.ts';

// Lockout-safe credentials (px #234, #250, #258: a wrong NTLM password retried by every ssh locks the domain
// account). When a proxy rejects a user's credentials, later runs do not send the same ones to the same proxy for
// a while: what is remembered is a keyed digest of (proxy, user, password) under the per-user state key
// (src/state/store.ts), never the password. --fresh sends them anyway; a terminal prompt offers a new password.

export const REJECTED_TTL_MS = 15 * 60 * 1000;

type Env = Readonly<Record<string, string | undefined>>;

export interface Credentials {
  username: string;
  password: string;
}

function store(env: Env): Store<true> {
  return openStore<true>(env, 'rejected-credentials', { ttlMs: REJECTED_TTL_MS, maxEntries: 50 });
}

function key(env: Env, proxyLabel: string, credentials: Credentials): string {
  return keyedDigest(env, 'proxy-credentials', proxyLabel, credentials.username, credentials.password);
}

/** When the proxy rejected exactly these credentials (ms since the epoch), if it did within the memory window. */
export function rejectedAt(env: Env, proxyLabel: string, credentials: Credentials): number | undefined {
  return store(env).get(key(env, proxyLabel, credentials))?.at;
}

export function rememberRejected(env: Env, proxyLabel: string, credentials: Credentials): void {
  store(env).set(key(env, proxyLabel, credentials), true);
}

export function forgetRejected(env: Env, proxyLabel: string, credentials: Credentials): void {
  store(env).delete(key(env, proxyLabel, credentials));
}

export function heldBackError(proxyLabel: string, target: string, username: string, at: number): BurrowError {
  const clock = clockTime(at);
  return new BurrowError('auth', `not sending the password for user "${username}" to the proxy ${proxyLabel} (CONNECT ${target}): the proxy rejected this same password at ${clock}, and sending it again on every run can lock the account; burrow holds it back for ${REJECTED_TTL_MS / 60_000} minutes`, {
    proxy: proxyLabel,
    target,
    said: 'credentials held back',
    hint: 'correct the password (in the proxy URL, ~/.netrc or BURROW_PROXY_PASSWORD), or retry at once with --fresh',
  });
}
