import { dial, type DialOptions } from '../dial/dial.ts';
import { isBurrowError } from '../errors.ts';
import { resolveRoute, type RouteOptions } from '../route/policy.ts';
import { formatTarget, parseHostPort as parseTargetText, type Target } from '../route/target.ts';
import type { TeleportAddress } from './address.ts';
import { pingTeleport } from './ping.ts';
import { checkTlsRouting } from './tls-routing-check.ts';
import type { ProbeVerdict } from './probe-cache.ts';
import { formatHops } from '../route/proxy-url.ts';

// `burrow tsh`'s SSH-port check (REFERENCE.md §1): /webapi/ping for the SSH address (and, on the way, what the proxy
// demanded); when TLS routing is off, that port through the route and, if the proxy refuses it, directly; when it is
// on, whether Teleport's ALPN survives the route. The verdict says whether tsh's NO_PROXY needs the SSH address and
// whether tsh needs the connection upgrade.

/** A host:port from a Teleport ping answer: validated like any target, or dropped. */
function parseHostPort(text: string): Target | undefined {
  try {
    return parseTargetText(text);
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  if (isBurrowError(error)) return `${error.message}${error.said && !error.message.includes(error.said) ? ` (${error.said})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * /webapi/ping (noting what the proxy demanded), then with TLS routing the ALPN check, else the SSH port through the
 * route and, if refused, directly.
 */
export async function checkSshPort(address: TeleportAddress, routeOptions: RouteOptions, dialOptions: DialOptions): Promise<ProbeVerdict> {
  const web = { host: address.host, port: address.port };
  const timeoutMs = dialOptions.connectTimeoutMs + 5000;
  let answer;
  let proxyAuth: ProbeVerdict['proxyAuth'];
  try {
    const pinged = await pingTeleport(web, routeOptions, dialOptions, timeoutMs);
    answer = pinged.answer;
    if (pinged.proxyAuth) proxyAuth = { scheme: pinged.proxyAuth.scheme, challenged: pinged.proxyAuth.challenged };
  } catch (error) {
    return { verdict: 'unknown', message: `could not ask https://${formatTarget(web)}/webapi/ping: ${reasonOf(error)}` };
  }
  const seen = proxyAuth ? { proxyAuth } : {};
  if (!answer) return { verdict: 'unknown', ...seen, message: `https://${formatTarget(web)}/webapi/ping gave no Teleport answer` };
  const ping = answer;
  if (ping.tls_routing_enabled) {
    const base: ProbeVerdict = { verdict: 'ok', tlsRouting: true, ...seen, ...(ping.ssh_address ? { sshAddress: ping.ssh_address } : {}) };
    try {
      const check = await checkTlsRouting(await resolveRoute(web, routeOptions), dialOptions, timeoutMs);
      return { ...base, connUpgrade: check.upgrade, tlsRoutingSeen: check.seen };
    } catch (error) {
      return { ...base, tlsRoutingSeen: `the TLS-routing check failed: ${reasonOf(error)}` };
    }
  }
  const ssh = ping.ssh_address ? parseHostPort(ping.ssh_address) : undefined;
  if (!ssh) return { verdict: 'unknown', tlsRouting: false, ...seen, message: 'the ping answer names no SSH address' };
  const sshAddress = formatTarget(ssh);
  const plan = await resolveRoute(ssh, routeOptions);
  const alternative = plan.alternatives[0];
  if (!alternative || alternative.hops.length === 0) return { verdict: 'ok', tlsRouting: false, ...seen, sshAddress };
  let proxyFailure: unknown;
  try {
    const connection = await dial(plan, dialOptions);
    connection.stream.destroy();
    return { verdict: 'ok', tlsRouting: false, ...seen, sshAddress };
  } catch (error) {
    proxyFailure = error;
  }
  const via = formatHops(alternative.hops);
  try {
    const connection = await dial({ target: ssh, alternatives: [{ hops: [], source: { kind: 'probe', text: 'probe' }, reason: 'direct check' }], warnings: [] }, dialOptions);
    connection.stream.destroy();
    return {
      verdict: 'direct',
      tlsRouting: false,
      ...seen,
      sshAddress,
      noProxyEntry: sshAddress,
      message: `${via} refuses tsh's SSH port ${sshAddress} (${reasonOf(proxyFailure)}) but a direct connection works: added ${sshAddress} to tsh's NO_PROXY`,
    };
  } catch (directFailure) {
    return {
      verdict: 'neither',
      tlsRouting: false,
      ...seen,
      sshAddress,
      message:
        `tsh will probably fail to reach the cluster's SSH port ${sshAddress}: TLS routing is off, so tsh needs that port, ` +
        `but ${via} said ${reasonOf(proxyFailure)}, and a direct connection failed too (${reasonOf(directFailure)}). ` +
        `The choices: ask the cluster's administrators to enable TLS routing (SSH then rides on the web port ${address.port}, which the proxy allows), ` +
        `ask the proxy's administrators to allow CONNECT to port ${ssh.port}, or use a proxy or network that reaches ${sshAddress} (burrow tsh --proxy URL).`,
    };
  }
}
