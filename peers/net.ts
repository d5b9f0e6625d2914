// Loopback ports for real peers: the address every daemon binds, a free port, and "does it accept yet".
import { readFileSync } from 'node:fs';
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A loopback port where nothing listens, that no other test can start listening on while a test counts on the
 * refusal. freePort()'s ports come from the kernel's ephemeral range, from which every listen(0) on the machine takes
 * its port: with tests and peers binding in parallel, a "dead" port picked that way can come alive a moment later.
 * This one lies below that range (net.ipv4.ip_local_port_range), where only a fixed port could land.
 */
export async function closedPort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 20 && low > CLOSED_PORTS_FROM + 100; attempt++) {
    const port = CLOSED_PORTS_FROM + Math.floor(Math.random() * (low - CLOSED_PORTS_FROM));
    if (await canBind(port)) return port;
  }
  return freePort();
}

/** Fixed ports of well-known services lie below this. */
const CLOSED_PORTS_FROM = 20_000;

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 0;
  } catch {
    return 0; // not Linux: fall back to freePort()
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

/** Resolves when a TCP connection to host:port succeeds, within `timeoutMs` of the attempt. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
