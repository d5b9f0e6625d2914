import type { ProxyAuthFact } from '../dial/context.ts';
import { openStore, type Store } from '../state/store.ts';

// A short per-user memory of `burrow tsh`'s SSH-port check (with what the proxy demanded and the TLS-routing check), so that `tsh ssh` in a loop does not pay a ping and two
// dials each time (state/store.ts: $XDG_CACHE_HOME/burrow/tsh-probe.json). Keys name the Teleport address and the
// proxies without credentials. A change of network forgets it: the answer depends on where the laptop is.

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
