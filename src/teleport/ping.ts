import type { Socket } from 'node:net';
import { dial, type DialOptions } from '../dial/dial.ts';
import type { ProxyAuthFact } from '../dial/context.ts';
import { resolveRoute, type RouteOptions } from '../route/policy.ts';
import type { Target } from '../route/target.ts';
import { probeTeleportPing, type TeleportJson } from './ping-answer.ts';

// GET https://PROXY/webapi/ping through the route, the way tsh asks it first. The HTTP part is ping-answer.ts,
// which doctor uses too: one client for both. The certificate is not verified: the answer is only read
// for the SSH address and the TLS-routing flag, and nothing secret is sent.

export interface PingThroughRoute {
  answer: TeleportJson | null;
  /** What the first proxy hop demanded before it accepted the CONNECT (undefined: direct, or not an HTTP proxy). */
  proxyAuth?: ProxyAuthFact;
}

export async function pingTeleport(target: Target, routeOptions: RouteOptions, dialOptions: DialOptions, timeoutMs: number): Promise<PingThroughRoute> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const facts: ProxyAuthFact[] = [];
  try {
    const connection = await dial(await resolveRoute(target, routeOptions), { ...dialOptions, signal: controller.signal, onProxyAuth: (fact) => facts.push(fact) });
    const { startTargetTls } = await import('../dial/tls.ts');
    const { socket } = await startTargetTls(connection.stream as Socket, target.host, ['http/1.1'], controller.signal);
    const answer = await probeTeleportPing(socket, target.host, target.port, controller.signal);
    return { answer, ...(facts[0] ? { proxyAuth: facts[0] } : {}) };
  } finally {
    clearTimeout(timer);
  }
}
