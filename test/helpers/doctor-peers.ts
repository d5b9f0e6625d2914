// Peers for the doctor tests, on 127.0.0.1 only: a CA with a chosen name, a fake Teleport proxy answering
// /webapi/ping over TLS, a CONNECT proxy that inspects TLS with its own CA, a plain-HTTP forward proxy (absolute-form
// GET, for --http-check), an SSH server whose host key the test knows, and a black hole (accepts, never answers).
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, TLSSocket } from 'node:tls';
import ssh2 from 'ssh2';
import { listen as listenPeer, type Peer } from './node-peers.ts';
import { makeTestCa, type TestCa } from './tls-proxy.ts';

/** A test CA with a name of the test's choosing (a corporate inspection CA, say): tls-proxy.ts makes it. */
export type NamedCa = TestCa;
export const makeNamedCa = (name: string): NamedCa => makeTestCa(name);

/** A TLS server that answers GET /webapi/ping with `ping` (JSON) like a Teleport proxy, and 404 otherwise. */
export function startFakeTeleport(ca: NamedCa, ping: object): Promise<Peer> {
  const server = createTlsServer({ cert: ca.cert, key: ca.key }, (socket) => {
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const ok = head.startsWith('GET /webapi/ping ');
      const body = ok ? JSON.stringify(ping) : 'not found';
      socket.end(`HTTP/1.1 ${ok ? '200 OK' : '404 Not Found'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  return listenPeer(server, 'https');
}

/**
 * A CONNECT proxy that inspects TLS: it answers 200, terminates the client's TLS with a certificate from `ca` (its
 * own CA, as corporate proxies do) and opens its own TLS session to the real target, relaying the plaintext.
 */
export function startInspectingProxy(ca: NamedCa): Promise<Peer> {
  const server = createServer((client) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const match = /^CONNECT (\S+):(\d+) HTTP/.exec(head.toString('latin1'));
      if (!match) return client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      const host = match[1]!.replace(/^\[|\]$/g, '');
      const port = Number(match[2]);
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      const inner = new TLSSocket(client, { isServer: true, cert: ca.cert, key: ca.key });
      inner.on('error', () => client.destroy());
      const upstream = tlsConnect({ host, port, rejectUnauthorized: false });
      upstream.on('error', () => inner.destroy());
      inner.pipe(upstream);
      upstream.pipe(inner);
    };
    client.on('data', onData);
  });
  return listenPeer(server, 'http');
}

/** A forward proxy for plain http:// URLs (absolute-form GET), adding a Via header, as squid does. */
export function startHttpForwardProxy(): Promise<Peer & { requests: string[] }> {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, via: '1.1 burrow-test-proxy' });
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502, { 'x-squid-error': 'ERR_CONNECT_FAIL 111' }).end());
    req.pipe(upstream);
  });
  return listenPeer(server, 'http').then((peer) => Object.assign(peer, { requests }));
}

/** A plain HTTP origin answering 200 "hello". */
export function startHttpOrigin(): Promise<Peer> {
  return listenPeer(createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello\n')), 'http');
}

/** An ssh2 server whose host key the test knows: `publicKey` is the OpenSSH line ("ssh-ed25519 AAAA…"). */
export async function startKeyedSshServer(): Promise<Peer & { publicKey: string }> {
  const keys = ssh2.utils.generateKeyPairSync('ed25519');
  const server = new ssh2.Server({ hostKeys: [keys.private] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => ctx.reject());
  });
  const peer = await listenPeer(server as unknown as Server, 'ssh');
  return Object.assign(peer, { publicKey: keys.public.trim() });
}

/** Accepts TCP connections and never sends a byte: a service (or proxy) that hangs. */
export function startBlackHole(): Promise<Peer> {
  return listenPeer(createServer(() => {}), 'tcp');
}

/** A port on 127.0.0.1 where nothing listens (bound then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
