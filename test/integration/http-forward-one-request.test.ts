// The local HTTP proxy's plain-HTTP forwarding, in process: one request per client connection (a pipelined second
// request, which could carry the bridge's own Proxy-Authorization, never reaches the origin), and credentials for
// an upstream HTTP proxy filled in from BURROW_PROXY_USER as the CONNECT path does.
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Log } from '../../src/log.ts';
import { makeRouter, newLimits, type RunningListener } from '../../src/relay/listener.ts';
import { startProxyServer } from '../../src/relay/proxy-server.ts';
import { connectLocal, exchange } from '../helpers/burrow-forward.ts';
import { startForwardProxy, type HttpPeer } from '../helpers/node-peers.ts';

const silent: Log = { error() {}, warn() {}, info() {}, debug() {}, trace() {}, enabled: () => false, flush() {} };

/**
 * An origin that records every byte it gets and answers once the bridge has half-closed towards it: the client
 * sends its two requests and its FIN together, so by the time the FIN has come through, anything the bridge would
 * pass on has arrived (no pause that a slow machine could outlast).
 */
interface RawOrigin {
  port: number;
  received: () => string;
  close(): Promise<void>;
}

async function startRawOrigin(): Promise<RawOrigin> {
  const chunks: Buffer[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => Buffer.concat(chunks).toString('latin1'),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const listeners: RunningListener[] = [];
let upstream: HttpPeer;

async function bridge(routeOptions: Parameters<typeof makeRouter>[0], env: Record<string, string> = {}): Promise<number> {
  const listener = await startProxyServer({
    name: 'test',
    listen: { host: '127.0.0.1', port: 0 },
    protocols: ['http'],
    auth: { user: 'burrow', password: 'bridge-token' },
    router: makeRouter(routeOptions, { connectTimeoutMs: 5000, log: silent, env }),
    log: silent,
    limits: newLimits(),
  });
  listeners.push(listener);
  return listener.address.port;
}

const AUTH = `Proxy-Authorization: Basic ${Buffer.from('burrow:bridge-token').toString('base64')}\r\n`;

beforeAll(async () => {
  upstream = await startForwardProxy({ user: 'up', password: 'from-env' });
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.close(0)));
  await upstream?.close();
});

describe('plain HTTP through the local proxy: one request per connection', () => {
  it.each([
    ['no body', '', ''],
    ['a Content-Length body', 'Content-Length: 5\r\n', 'hello'],
    ['a chunked body', 'Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'],
  ])('%s: the pipelined request behind it never reaches the origin', async (_name, bodyHeader, body) => {
    const origin = await startRawOrigin();
    try {
      const port = await bridge({ direct: true, env: {} });
      const first = `POST http://127.0.0.1:${origin.port}/one HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${AUTH}${bodyHeader}\r\n${body}`;
      const second = `GET http://127.0.0.1:${origin.port}/two HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${AUTH}\r\n`;
      const socket = await connectLocal(port);
      // Both requests and the client's FIN at once; the answer comes when the FIN reached the origin (half-close).
      const { data, how } = await exchange(socket, first + second, { timeoutMs: 10_000 });
      socket.destroy();
      expect(how).not.toBe('timeout');
      expect(data.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
      const received = origin.received();
      expect(received).toMatch(/^POST \/one HTTP\/1\.1\r\n/);
      expect(received.endsWith(`\r\n\r\n${body}`)).toBe(true);
      expect(received).not.toContain('/two');
      expect(received).not.toMatch(/proxy-authorization/i);
    } finally {
      await origin.close();
    }
  });

  it('a request whose body framing cannot be read is refused with 400', async () => {
    const port = await bridge({ direct: true, env: {} });
    const socket = await connectLocal(port);
    const { data } = await exchange(socket, `POST http://127.0.0.1:1/ HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 1\r\nContent-Length: 2\r\n\r\n`, { keepOpen: true, timeoutMs: 5000 });
    socket.destroy();
    expect(data.toString()).toMatch(/^HTTP\/1\.1 400 [^]*bad Content-Length/);
  });
});

describe('plain HTTP to an upstream HTTP proxy', () => {
  it('fills in the upstream credentials from BURROW_PROXY_USER/BURROW_PROXY_PASSWORD, as for CONNECT', async () => {
    const env = { BURROW_PROXY_USER: 'up', BURROW_PROXY_PASSWORD: 'from-env', HOME: '/nonexistent', XDG_CACHE_HOME: '/nonexistent' };
    const port = await bridge({ proxies: [`http://127.0.0.1:${upstream.port}`], env }, env);
    const socket = await connectLocal(port);
    const { data } = await exchange(socket, `GET http://127.0.0.1:9/credentials HTTP/1.1\r\nHost: 127.0.0.1:9\r\n${AUTH}\r\n`, { keepOpen: true, timeoutMs: 5000 });
    socket.destroy();
    const seen = upstream.requests.filter((r) => r.url.endsWith('/credentials'));
    // No credentials until the upstream's 407 asked for Basic (this env has no state directory: nothing remembered).
    expect(seen.map((r) => r.headers['proxy-authorization'])).toEqual([undefined, `Basic ${Buffer.from('up:from-env').toString('base64')}`]);
    expect(data.toString()).not.toMatch(/^HTTP\/1\.1 407/);
  });
});
