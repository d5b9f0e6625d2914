import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startBannerServer, startConnectProxy, startDigestServer, startEchoServer, startSocks5Server } from '../helpers/node-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { makeTestCa, startTlsFront } from '../helpers/tls-proxy.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();

describe('connect through SOCKS5', () => {
  it('socks5h sends the name for the proxy to resolve; socks5 resolves locally and sends an address', async () => {
    const socks = await track(startSocks5Server());
    const target = await track(startEchoServer());
    const remote = await runBurrow(['connect', '-x', `socks5h://127.0.0.1:${socks.port}`, 'localhost', String(target.port)], { input: 'h' });
    expect(remote.code).toBe(0);
    expect(remote.stdout.toString()).toBe('h');
    const local = await runBurrow(['connect', '-x', `socks5://127.0.0.1:${socks.port}`, 'localhost', String(target.port)], { input: 'l' });
    expect(local.code).toBe(0);
    expect(local.stdout.toString()).toBe('l');
    expect(socks.requests[0]).toBe('domain localhost');
    expect(socks.requests[1]).toMatch(/^ipv(4 127\.0\.0\.1|6 0000:0000:0000:0000:0000:0000:0000:0001)$/);
  });

  it('keeps a banner that the target sends before the client says anything', async () => {
    const socks = await track(startSocks5Server());
    const target = await track(startBannerServer());
    const result = await runBurrow(['connect', '-x', `socks5h://127.0.0.1:${socks.port}`, '127.0.0.1', String(target.port)], { input: 'x' });
    expect(result.stdout.toString()).toBe('SSH-2.0-burrow-test\r\nx');
  });

  it('authenticates with user and password, and exits 4 on the wrong ones without showing them', async () => {
    const socks = await track(startSocks5Server({ user: 'bob', password: 's3cr:et' }));
    const target = await track(startEchoServer());
    const ok = await runBurrow(['connect', '-x', `socks5h://bob:s3cr%3Aet@127.0.0.1:${socks.port}`, '127.0.0.1', String(target.port)], { input: 'y' });
    expect(ok.code).toBe(0);
    expect(ok.stdout.toString()).toBe('y');
    const bad = await runBurrow(['connect', '-vvv', '-x', `socks5h://bob:wr0ng-pass@127.0.0.1:${socks.port}`, '127.0.0.1', String(target.port)], { input: '' });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('bob');
    expect(bad.stderr).not.toContain('wr0ng-pass');
  });

  it('half-closes: the digest comes back after stdin ends', async () => {
    const socks = await track(startSocks5Server());
    const target = await track(startDigestServer());
    const payload = randomBytes(1024 * 1024);
    const result = await runBurrow(['connect', '-x', socks.url, '127.0.0.1', String(target.port)], { input: payload });
    expect(result.stdout.toString()).toBe(`${payload.length} ${createHash('sha256').update(payload).digest('hex')}\n`);
  });

  it('reads ALL_PROXY=socks5h:// from the environment for a non-loopback name', async () => {
    // Environment proxies never apply to loopback targets, so the target is a name only the proxy can resolve.
    const socks = await track(startSocks5Server(undefined, { 'sshd.burrow.test': '127.0.0.1' }));
    const target = await track(startEchoServer());
    const env = cleanEnv({ ALL_PROXY: socks.url, NO_PROXY: 'example.org' });
    const result = await runBurrow(['connect', 'sshd.burrow.test', String(target.port)], { env, input: 'env' });
    expect(result.stdout.toString()).toBe('env');
    expect(socks.requests).toEqual(['domain sshd.burrow.test']);
  });
});

describe('connect through chains', () => {
  it('walks HTTP CONNECT, then SOCKS5 inside it, then the target', async () => {
    const http = await track(startConnectProxy());
    const socks = await track(startSocks5Server());
    const target = await track(startDigestServer());
    const payload = randomBytes(2 * 1024 * 1024);
    const result = await runBurrow(['connect', '-x', http.url, '-x', socks.url, '127.0.0.1', String(target.port)], { input: payload });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${payload.length} ${createHash('sha256').update(payload).digest('hex')}\n`);
    expect(http.requests.map((r) => r.requestLine)).toEqual([`CONNECT 127.0.0.1:${socks.port} HTTP/1.1`]);
    expect(socks.requests).toEqual(['ipv4 127.0.0.1']);
  });

  it('takes a chain from BURROW_PROXY (comma-separated) and reports a refusal at the second hop', async () => {
    const first = await track(startConnectProxy());
    const second = await track(startConnectProxy({ only443: true }));
    const env = cleanEnv({ BURROW_PROXY: `${first.url},${second.url}` });
    const result = await runBurrow(['connect', 'git.example.org', '22'], { env, input: '' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`http://127.0.0.1:${second.port}`);
    expect(first.requests[0]!.requestLine).toBe(`CONNECT 127.0.0.1:${second.port} HTTP/1.1`);
  });
});

describe('connect through an https:// proxy', () => {
  it('verifies the proxy with --proxy-ca, refuses an unknown CA, and --proxy-insecure warns loudly', async () => {
    const ca = makeTestCa();
    const inner = await track(startConnectProxy({ coalesce: true }));
    const front = await track(startTlsFront(ca, inner));
    const target = await track(startBannerServer());
    const args = ['connect', '-x', front.url, '127.0.0.1', String(target.port)];

    const verified = await runBurrow([...args, '--proxy-ca', ca.caFile], { input: 'tls' });
    expect(verified.code).toBe(0);
    expect(verified.stdout.toString()).toBe('SSH-2.0-burrow-test\r\ntls');

    const untrusted = await runBurrow(args, { input: '' });
    expect(untrusted.code).toBe(5);
    expect(untrusted.stderr).toContain('--proxy-ca');

    const insecure = await runBurrow([...args, '--proxy-insecure'], { input: 'i' });
    expect(insecure.code).toBe(0);
    expect(insecure.stderr).toMatch(/warning: --proxy-insecure/);
  });

  it('chains an https:// proxy behind an http:// one (TLS inside the first tunnel)', async () => {
    const ca = makeTestCa();
    const outer = await track(startConnectProxy());
    const inner = await track(startConnectProxy());
    const front = await track(startTlsFront(ca, inner));
    const target = await track(startEchoServer());
    const result = await runBurrow(['connect', '--proxy-ca', ca.caFile, '-x', outer.url, '-x', front.url, '127.0.0.1', String(target.port)], { input: 'nested' });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('nested');
    expect(front.handshakes).toBe(1);
  });
});

describe('a proxy that resets the connection right after accepting it', () => {
  // A fault no real proxy stages on demand: the reset arrives while burrow is between handshake steps (resolving the
  // target locally for socks5://, loading the socks package), when no step is listening for errors.
  it.each([['socks5'], ['socks5h'], ['http']])('%s:// ends with a reasoned exit 5 or 3, never a crash', async (scheme) => {
    const server = createServer((socket) => socket.resetAndDestroy());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      for (let i = 0; i < 3; i++) {
        const result = await runBurrow(['connect', '-x', `${scheme}://127.0.0.1:${port}`, 'localhost', '22'], { input: '' });
        expect(result.stderr).not.toMatch(/internal error|Unhandled|at .*\.mjs|at .*\.cjs/);
        expect([3, 5]).toContain(result.code);
      }
    } finally {
      server.close();
    }
  });
});
