// Peers for the doctor tests, on 127.0.0.1 only: a CA with a chosen name, a fake Teleport proxy answering
// /webapi/ping over TLS, a CONNECT proxy that inspects TLS with its own CA, a plain-HTTP forward proxy (absolute-form
// GET, for --http-check), an SSH server whose host key the test knows, and a black hole (accepts, never answers).
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, TLSSocket } from 'node:tls';
import ssh2 from 'ssh2';
import type { Peer } from './node-peers.ts';

export interface NamedCa {
  caFile: string;
  /** A certificate for localhost / 127.0.0.1 signed by the CA. */
  cert: string;
  key: string;
}

/** A throw-away CA called `name` and a localhost/127.0.0.1 certificate it signed (the system's openssl). */
export function makeNamedCa(name: string): NamedCa {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-doctor-ca-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', 'ca.key', '-out', 'ca.pem']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem']);
  return { caFile: join(dir, 'ca.pem'), cert: readFileSync(join(dir, 'server.pem'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8') };
}

async function listenPeer(server: Server | HttpServer, scheme: string): Promise<Peer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const peer: Peer = {
    host: '127.0.0.1',
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    connections: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', () => peer.connections++);
  return peer;
}

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
