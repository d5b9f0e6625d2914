import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Peer } from './node-peers.ts';

export interface TestCa {
  dir: string;
  caFile: string;
  cert: string;
  key: string;
}

/** A throw-away CA called `name` and a certificate for 127.0.0.1 / localhost signed by it (the system's openssl). */
export function makeTestCa(name = 'burrow test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-ca-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', 'ca.key', '-out', 'ca.pem']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  const ext = join(dir, 'ext.cnf');
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ${ext}`]);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', 'server.pem']);
  return { dir, caFile: join(dir, 'ca.pem'), cert: readFileSync(join(dir, 'server.pem'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8') };
}

/** An https:// proxy: TLS in front of a plain CONNECT proxy (any Peer with a port). */
export async function startTlsFront(ca: TestCa, backend: Peer): Promise<Peer & { handshakes: number }> {
  const server = createTlsServer({ cert: ca.cert, key: ca.key, allowHalfOpen: true }, (tlsSocket) => {
    const plain = connect({ host: backend.host, port: backend.port, allowHalfOpen: true });
    tlsSocket.pipe(plain);
    plain.pipe(tlsSocket);
    plain.on('error', () => tlsSocket.destroy());
    tlsSocket.on('error', () => plain.destroy());
  });
  server.on('tlsClientError', () => {});
  // close() waits for open connections; a test's end must not.
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const peer = {
    host: '127.0.0.1',
    port,
    url: `https://127.0.0.1:${port}`,
    connections: 0,
    handshakes: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('secureConnection', () => peer.handshakes++);
  return peer;
}

