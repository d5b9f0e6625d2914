import type { Socket } from 'node:net';
import { dial, type DialOptions } from '../dial/dial.ts';
import type { RoutePlan } from '../route/plan.ts';
import { formatTarget } from '../route/target.ts';

// With TLS routing (REFERENCE.md §1, §6), tsh reaches SSH on the web port inside TLS with ALPN
// "teleport-proxy-ssh". A proxy or middlebox that terminates TLS (inspection, an L7 load balancer) answers that
// handshake itself and strips or refuses the protocol; tsh must then use the connection upgrade
// (TELEPORT_TLS_ROUTING_CONN_UPGRADE=true), and its own test misses many such cases (teleport #66657, #29156).
// This check makes the handshake tsh will make, along the route (`burrow tsh`) or one path (`burrow doctor`), and
// looks at what comes back.

export const TELEPORT_SSH_ALPN = 'teleport-proxy-ssh';
export const CONN_UPGRADE_VARIABLE = 'TELEPORT_TLS_ROUTING_CONN_UPGRADE';

export interface TlsRoutingCheck {
  /** True when tsh needs the connection upgrade on this route. */
  upgrade: boolean;
  /** The ALPN protocol agreed (null: none). */
  alpn: string | null;
  /** Who issued the certificate the route presented ('' unknown). */
  issuer: string;
  /** One clause: what was seen. */
  seen: string;
}

/** `plan` leads to the Teleport proxy's web address; `signal` (optional) abandons the check as well as the timeout. */
export async function checkTlsRouting(plan: RoutePlan, dialOptions: DialOptions, timeoutMs: number, signal?: AbortSignal): Promise<TlsRoutingCheck> {
  const web = plan.target;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const connection = await dial(plan, { ...dialOptions, signal: controller.signal });
    const { startTargetTls } = await import('../dial/tls.ts');
    let session;
    try {
      session = await startTargetTls(connection.stream as Socket, web.host, [TELEPORT_SSH_ALPN], controller.signal);
    } catch (error) {
      // A middlebox that speaks only HTTP/1.1 refuses the handshake outright; tsh's own test upgrades on this too.
      if ((error as NodeJS.ErrnoException).code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
        return { upgrade: true, alpn: null, issuer: '', seen: `the TLS handshake with ${formatTarget(web)} offering ALPN ${TELEPORT_SSH_ALPN} was refused ("no application protocol")` };
      }
      throw error;
    }
    session.socket.destroy();
    const { alpn, issuer } = session;
    const by = issuer ? `, certificate issued by "${issuer}"` : '';
    if (alpn === TELEPORT_SSH_ALPN) return { upgrade: false, alpn, issuer, seen: `ALPN ${TELEPORT_SSH_ALPN} agreed by ${formatTarget(web)}${by}` };
    return { upgrade: true, alpn, issuer, seen: `${alpn ? `ALPN ${alpn}` : 'no ALPN protocol'} agreed instead of ${TELEPORT_SSH_ALPN}${by}: something on the route terminates TLS` };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
