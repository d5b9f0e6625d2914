import { withCredentials } from '../credentials/lookup.ts';
import type { ProxyAuthFact } from '../dial/context.ts';
import type { Environment } from '../route/environment.ts';
import { displayProxy, formatHops, type ProxyEndpoint } from '../route/proxy-url.ts';
import { formatHostPort } from '../route/target.ts';
import { keyedDigest, openStore, type Store } from '../state/store.ts';

// A short per-user memory of `burrow tsh`'s SSH-port check (with what the proxy demanded and the TLS-routing check),
// so that `tsh ssh` in a loop does not pay a ping and two dials each time (state/store.ts:
// $XDG_CACHE_HOME/burrow/tsh-probe.json). Keys name the Teleport address and the proxies without credentials and,
// when a hop has credentials (its URL's, ~/.netrc's or BURROW_PROXY_USER's), a keyed digest of them (keyedDigest):
// what a proxy demands and allows can differ per user, and a wrong password is no user at all, so another user is
// checked afresh while the file names no user and no password. A change of network forgets it: the answer depends
// on where the laptop is.

export const CACHE_TTL_MS = 5 * 60 * 1000;

export interface ProbeVerdict {
  /** ok: tsh's SSH port works as routed (or TLS routing); direct: add noProxyEntry; neither: explanation. */
  verdict: 'ok' | 'direct' | 'neither' | 'unknown';
  tlsRouting?: boolean;
  sshAddress?: string;
  noProxyEntry?: string;
  message?: string;
  /** What the first proxy hop demanded when burrow pinged the cluster through it (burrow tsh's passthrough test). */
  proxyAuth?: Pick<ProxyAuthFact, 'scheme' | 'challenged'>;
  /** TLS routing on: whether the route strips Teleport's ALPN (tsh then needs the connection upgrade), and what was seen. */
  connUpgrade?: boolean;
  tlsRoutingSeen?: string;
}

export function probeStore(env: Readonly<Record<string, string | undefined>>): Store<ProbeVerdict> {
  return openStore<ProbeVerdict>(env, 'tsh-probe', { ttlMs: CACHE_TTL_MS, maxEntries: 50, forgetOnNetworkChange: true });
}

/**
 * The key of one check: the Teleport address, the proxies (shown without credentials), tsh's NO_PROXY and, for
 * `hops` that carry or are given credentials, a keyed digest of who authenticates to which proxy.
 */
export function probeKey(env: Environment, address: { host: string; port: number }, shown: readonly ProxyEndpoint[], noProxy: string | undefined, hops: readonly ProxyEndpoint[]): string {
  const identities = hops.flatMap((hop) => {
    const { proxy } = withCredentials(hop, env);
    return proxy.username === undefined && proxy.password === undefined ? [] : [displayProxy(proxy), proxy.username ?? '', proxy.password ?? ''];
  });
  const key = `${formatHostPort(address.host, address.port)} via ${formatHops([...shown])} no_proxy=${noProxy ?? ''}`;
  return identities.length ? `${key} as ${keyedDigest(env, 'tsh-probe', ...identities)}` : key;
}
