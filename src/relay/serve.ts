import type { Socket } from 'node:net';
import type { Connection } from '../dial/dial.ts';
import type { ConnectionRecord } from './listener.ts';
import type { Log } from '../log.ts';
import type { ListenAddress } from './forward-spec.ts';
import type { ConnectionLimits, Router } from './listener.ts';
import type { Credentials } from './socks-server.ts';
import { splice } from './splice.ts';

// What the SOCKS and HTTP sides of the local proxy (proxy-server.ts, http-proxy-server.ts) share: the options a
// connection is served with, the relay once a tunnel is open, and the final answer that closes a connection.

export type ProxyProtocol = 'socks' | 'http';

export interface ProxyServerOptions {
  /** "-D 1080", "--http 3128", "exec bridge": for the log. */
  name: string;
  listen: ListenAddress;
  protocols: ProxyProtocol[];
  router: Router;
  log: Log;
  limits: ConnectionLimits;
  /** Required credentials. Without them only loopback clients are served. */
  auth?: Credentials;
  /** Bound on reading one request (greeting, auth, request head). Default 10 s. */
  handshakeTimeoutMs?: number;
  idleTimeoutMs?: number;
}

export interface Served extends ProxyServerOptions {
  clientAllowed: boolean;
  checkCredentials: (user: string, password: string) => boolean;
}

export async function relay(
  socket: Socket,
  connection: Connection,
  received: Buffer,
  clientEnded: boolean,
  record: ConnectionRecord,
  options: Served,
  filter?: (chunk: Buffer) => Buffer,
): Promise<void> {
  if (socket.destroyed) {
    connection.stream.destroy();
    record.failure = { reason: 'the client left before the tunnel opened' };
    return;
  }
  const rest = filter ? filter(received) : received;
  if (rest.length > 0) connection.stream.write(rest);
  if (clientEnded) connection.stream.end();
  record.splice = splice(socket, connection.stream, {
    ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(filter ? { filterAToB: filter } : {}),
  });
  const result = await record.splice.done;
  record.result = { ...result, aToB: result.aToB + rest.length };
}

/**
 * Writes a final answer and closes. What the client still sends is read and dropped until it closes (closing with
 * unread bytes would send a RST that can destroy the answer in flight); bounded to 2 s.
 */
export function endWith(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, 2000);
    timer.unref();
    socket.once('end', done);
    socket.once('close', done);
    if (socket.readableEnded) socket.end(data, done);
    else socket.end(data);
    socket.resume();
  });
}
