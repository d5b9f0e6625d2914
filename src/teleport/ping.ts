import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { dial, type DialOptions } from '../dial/dial.ts';
import { resolveRoute, type RouteOptions } from '../route/policy.ts';
import type { Target } from '../route/target.ts';
import { probeTeleportPing, type TeleportJson } from './ping-answer.ts';

// GET https://PROXY/webapi/ping through the route, the way tsh asks it first. The HTTP part is ping-answer.ts,
// which doctor uses too: one client for both. The certificate is not verified: the answer is only read
// for the SSH address and the TLS-routing flag, and nothing secret is sent.

export async function pingTeleport(target: Target, routeOptions: RouteOptions, dialOptions: DialOptions, timeoutMs: number): Promise<TeleportJson | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const connection = await dial(await resolveRoute(target, routeOptions), { ...dialOptions, signal: controller.signal });
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const tls = tlsConnect({ socket: connection.stream as Socket, ...(isIP(target.host) ? {} : { servername: target.host }), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      const onAbort = () => {
        tls.destroy();
        reject(new Error('no TLS handshake in time'));
      };
      controller.signal.addEventListener('abort', onAbort, { once: true });
      tls.once('error', (error) => {
        controller.signal.removeEventListener('abort', onAbort);
        reject(error);
      });
      tls.once('secureConnect', () => {
        controller.signal.removeEventListener('abort', onAbort);
        tls.on('error', () => {});
        resolve(tls);
      });
    });
    return await probeTeleportPing(socket, target.host, target.port, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
