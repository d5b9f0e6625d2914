// Peers for the exec/tsh tests, on loopback only: a CA whose certificate names a test host, a CONNECT proxy that
// allows only some ports (the corporate "443 only" rule) and resolves names itself, a loopback name this machine resolves (from /etc/hosts, read only), and the Go tsh stand-in.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Peer } from './node-peers.ts';

export const TELEPORT_NAME = 'teleport.burrow.test';

export interface HostCa {
  caFile: string;
  cert: string;
  key: string;
}

/** A throw-away CA called `caName` and a certificate for `names` (DNS) and 127.0.0.1, with the system's openssl. */
export function makeCaFor(names: string[], caName = 'burrow wrap test CA'): HostCa {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-wrap-ca-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${caName}`, '-keyout', 'ca.key', '-out', 'ca.pem']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${names[0]}`, '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${[...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',')}\n`);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem']);
  return { caFile: join(dir, 'ca.pem'), cert: readFileSync(join(dir, 'server.pem'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8') };
}

export async function listenTracked(server: Server, scheme: string, host = '127.0.0.1'): Promise<Peer> {
  const sockets = new Set<Socket>();
  const peer: Peer = { host, port: 0, url: '', connections: 0, close: async () => {} };
  server.on('connection', (socket: Socket) => {
    peer.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.listen(0, host);
  await once(server, 'listening');
  peer.port = (server.address() as AddressInfo).port;
  peer.url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${peer.port}`;
  peer.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return peer;
}

export interface PolicyProxyOptions {
  /** Ports CONNECT may reach; others get 403 with squid's error header. Default: all. */
  allowPorts?: number[];
  auth?: { user: string; password: string };
  /** Names the proxy resolves itself. */
  hosts?: Record<string, string>;
}

export interface PolicyProxy extends Peer {
  /** "CONNECT host:port" of every request, and its answer status. */
  log: string[];
}

/**
 * Reads a request head from a test proxy's client, then calls `onHead` with its text and the bytes behind it, the
 * client paused.
 */
export function onRequestHead(client: Socket, onHead: (text: string, rest: Buffer) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    client.off('data', onData);
    client.pause();
    onHead(head.subarray(0, end).toString('latin1'), head.subarray(end + 4));
  };
  client.on('data', onData);
}

/** An HTTP CONNECT proxy with a port policy, Basic auth and its own hosts table. */
export async function startPolicyProxy(options: PolicyProxyOptions = {}): Promise<PolicyProxy> {
  const log: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (client) => {
    onRequestHead(client, (text, rest) => {
      const match = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]\r\n/.exec(text);
      const answer = (status: string, extra: string[] = []) => {
        log.push(`${match ? `CONNECT ${match[1]}:${match[2]}` : text.split('\r\n')[0]} -> ${status}`);
        client.end(`${[`HTTP/1.1 ${status}`, ...extra, 'Content-Length: 0'].join('\r\n')}\r\n\r\n`);
      };
      if (!match) return answer('400 Bad Request');
      if (options.auth) {
        const expected = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`;
        const header = /\r\nproxy-authorization:\s*([^\r\n]*)/i.exec(text)?.[1];
        if (header !== expected) return answer('407 Proxy Authentication Required', ['Proxy-Authenticate: Basic realm="burrow-test"']);
      }
      const host = match[1]!.replace(/^\[|\]$/g, '');
      const port = Number(match[2]);
      if (options.allowPorts && !options.allowPorts.includes(port)) return answer('403 Forbidden', ['X-Squid-Error: ERR_ACCESS_DENIED 0']);
      const upstream = connect({ host: options.hosts?.[host] ?? host, port, allowHalfOpen: true });
      upstream.on('error', () => {
        if (!client.destroyed) answer('502 Bad Gateway');
      });
      upstream.once('connect', () => {
        log.push(`CONNECT ${match[1]}:${match[2]} -> 200`);
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
    });
  });
  const peer = await listenTracked(server, 'http');
  return Object.assign(peer, { log });
}

/** A TCP server on `host` that sends an SSH banner and keeps the connection until the client leaves. */
export function startBannerOn(host: string, banner = 'SSH-2.0-burrow-wrap-test\r\n'): Promise<Peer> {
  return listenTracked(
    createServer((socket) => {
      socket.write(banner);
      socket.resume();
    }),
    'ssh',
    host,
  );
}

/**
 * A name other than "localhost" that this machine resolves to a loopback address, from /etc/hosts (read, never
 * written): Go never proxies "localhost" or loopback IPs, so the "direct SSH works" case needs such a name.
 */
export function loopbackNameFromHosts(): { name: string; address: string } | undefined {
  let text = '';
  try {
    text = readFileSync('/etc/hosts', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || !/^127\.\d+\.\d+\.\d+$/.test(address)) continue;
    const name = names.find((n) => n && n !== 'localhost' && !n.startsWith('localhost.') && /^[a-z0-9.-]+$/i.test(n));
    if (name) return { name, address };
  }
  return undefined;
}

export const HAVE_GO = spawnSync('go', ['version']).status === 0;

/** Builds test/fixtures/tsh-standin into a temp dir, offline, with its caches in tmp; returns the binary's path. */
export function buildTshStandin(): string {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-tsh-standin-'));
  const source = fileURLToPath(new URL('../fixtures/tsh-standin', import.meta.url));
  const out = join(dir, 'tsh');
  const result = spawnSync('go', ['build', '-o', out, '.'], {
    cwd: source,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off', CGO_ENABLED: '0' },
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (result.status !== 0) throw new Error(`go build of the tsh stand-in failed: ${result.stderr || result.error?.message}`);
  return out;
}
