// Peers for the doctor tests, on 127.0.0.1 only: a CA with a chosen name, a plain-HTTP forward proxy (absolute-form
// GET, for --http-check), an SSH server whose host key the test knows, and a black hole (accepts, never answers).
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import ssh2 from 'ssh2';
import { generateHostKey, listen as listenPeer, type Peer } from './node-peers.ts';
import { makeTestCa, type TestCa } from './tls-proxy.ts';

export { closedPort } from '../../peers/net.ts';

/** A test CA with a name of the test's choosing (a corporate inspection CA, say): tls-proxy.ts makes it. */
export type NamedCa = TestCa;
export const makeNamedCa = (name: string): NamedCa => makeTestCa(name);

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
  const keys = generateHostKey();
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

