import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBannerServer, startConnectProxy, startDigestServer, startEchoServer } from '../helpers/node-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();

describe('connect through an HTTP CONNECT proxy', () => {
  it('carries 4 MB each way intact, and a FIN from stdin still gets the answer back', async () => {
    const proxy = await track(startConnectProxy());
    const target = await track(startDigestServer());
    const payload = randomBytes(4 * 1024 * 1024);
    const result = await runBurrow(['connect', '-x', proxy.url, '127.0.0.1', String(target.port)], { input: payload });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${payload.length} ${createHash('sha256').update(payload).digest('hex')}\n`);
    expect(proxy.requests[0]!.requestLine).toBe(`CONNECT 127.0.0.1:${target.port} HTTP/1.1`);
    expect(proxy.requests[0]!.headers.host).toBe(`127.0.0.1:${target.port}`);
  });

  it('echoes a large stream without losing or reordering bytes', async () => {
    const proxy = await track(startConnectProxy());
    const target = await track(startEchoServer());
    const payload = randomBytes(8 * 1024 * 1024);
    const result = await runBurrow(['connect', '-x', proxy.url, '127.0.0.1', String(target.port)], { input: payload });
    expect(result.code).toBe(0);
    expect(result.stdout.equals(payload)).toBe(true);
  });

  it.each([
    ['the banner arrives in the same packet as the 200', { coalesce: true }],
    ['the answer arrives one byte at a time', { trickle: true, coalesce: true }],
    ['the status line has no reason phrase', { statusLine: 'HTTP/1.1 200', coalesce: true }],
    ['the proxy speaks HTTP/1.0 and adds headers', { statusLine: 'HTTP/1.0 200 Connection established', headers: ['Proxy-Agent: test', 'Via: 1.1 test'], coalesce: true }],
    ['the 200 carries a Content-Length that must be ignored', { headers: ['Content-Length: 5'], coalesce: true }],
  ])('keeps the bytes that follow the answer when %s', async (_name, options) => {
    const proxy = await track(startConnectProxy(options));
    const target = await track(startBannerServer('SSH-2.0-burrow-test\r\n'));
    const result = await runBurrow(['connect', '-x', proxy.url, '127.0.0.1', String(target.port)], { input: 'ping\n' });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('SSH-2.0-burrow-test\r\nping\n');
  });

  it('sends Basic credentials percent-decoded from the URL, and never shows the password', async () => {
    const password = 'p:a s@ss';
    const proxy = await track(startConnectProxy({ auth: { user: 'alice', password } }));
    const target = await track(startEchoServer());
    const url = `http://alice:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`;
    const logDir = mkdtempSync(join(tmpdir(), 'burrow-log-'));
    const logFile = join(logDir, 'burrow.log');
    const result = await runBurrow(['connect', '-vvv', '--log-file', logFile, '-x', url, '127.0.0.1', String(target.port)], { input: 'hello' });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('hello');
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('tunnel open');
    for (const text of [result.stderr, log]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
      expect(text).not.toContain(Buffer.from(`alice:${password}`).toString('base64'));
    }
  });
});

describe('connect finds proxy credentials outside the URL', () => {
  it('reads ~/.netrc (machine PROXYHOST), then BURROW_PROXY_USER/BURROW_PROXY_PASSWORD', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'carol', password: 'n3trc pass' } }));
    const target = await track(startEchoServer());
    const home = mkdtempSync(join(tmpdir(), 'burrow-home-'));
    writeFileSync(join(home, '.netrc'), 'machine 127.0.0.1 login carol password "n3trc pass"\n');
    const viaNetrc = await runBurrow(['connect', '-x', proxy.url, '127.0.0.1', String(target.port)], { env: cleanEnv({ HOME: home }), input: 'netrc' });
    expect(viaNetrc.code).toBe(0);
    expect(viaNetrc.stdout.toString()).toBe('netrc');
    const viaEnv = await runBurrow(['connect', '-vv', '-x', proxy.url, '127.0.0.1', String(target.port)], {
      env: cleanEnv({ HOME: '/nonexistent', BURROW_PROXY_USER: 'carol', BURROW_PROXY_PASSWORD: 'n3trc pass' }),
      input: 'env',
    });
    expect(viaEnv.stdout.toString()).toBe('env');
    expect(viaEnv.stderr).toContain('from=BURROW_PROXY_USER/BURROW_PROXY_PASSWORD');
    expect(viaEnv.stderr).not.toContain('n3trc pass');
  });
});

describe('connect explains refusals', () => {
  it('exits 3 on a 403 for port 22 with the proxy, target, status and a NO_PROXY hint, stdout empty', async () => {
    const proxy = await track(startConnectProxy({ only443: true }));
    const result = await runBurrow(['connect', '-x', proxy.url, 'jump.example.org', '22'], { input: '' });
    expect(result.code).toBe(3);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toContain(`http://127.0.0.1:${proxy.port}`);
    expect(result.stderr).toContain('jump.example.org:22');
    expect(result.stderr).toContain('HTTP/1.1 403 Forbidden');
    expect(result.stderr).toContain('ERR_ACCESS_DENIED');
    expect(result.stderr).toContain('NO_PROXY=jump.example.org:22');
    expect(result.stderr).toMatch(/port 443/);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exits 3 on a 502 and says the proxy could not reach the target', async () => {
    const proxy = await track(startConnectProxy({ refuse: { statusLine: 'HTTP/1.1 502 Bad Gateway' } }));
    const result = await runBurrow(['connect', '-x', proxy.url, 'db.example.org', '5432'], { input: '' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('502 Bad Gateway');
    expect(result.stderr).toMatch(/could not connect to db\.example\.org:5432/);
  });

  it('exits 4 when the proxy wants credentials, naming the schemes it offers', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'a', password: 'b', schemes: ['Negotiate', 'NTLM', 'Basic realm="corp"'] } }));
    const result = await runBurrow(['connect', '-x', proxy.url, 'example.org', '22'], { input: '' });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('407');
    expect(result.stderr).toContain('Negotiate, NTLM, Basic');
  });

  it('exits 4 on wrong credentials without echoing the password at any verbosity', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'alice', password: 'right' } }));
    const result = await runBurrow(['connect', '-vvv', '-x', `http://alice:wrong%20secret@127.0.0.1:${proxy.port}`, 'example.org', '22'], { input: '' });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('rejected the credentials for user "alice"');
    expect(result.stderr).not.toContain('wrong secret');
    expect(result.stderr).not.toContain('wrong%20secret');
  });

  it('exits 5 within the connect timeout when the proxy accepts TCP and never answers', async () => {
    const proxy = await track(startConnectProxy({ silent: true }));
    const result = await runBurrow(['connect', '--connect-timeout', '1', '-x', proxy.url, 'example.org', '22'], { input: '', killAfterMs: 10_000 });
    expect(result.signal).toBe(null);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/timed out after 1 s waiting for proxy http:\/\/127\.0\.0\.1:\d+ to answer CONNECT example\.org:22/);
  });

  it('exits 5 when nothing listens at the proxy address', async () => {
    const proxy = await track(startEchoServer());
    await proxy.close();
    const result = await runBurrow(['connect', '-x', `http://127.0.0.1:${proxy.port}`, 'example.org', '22'], { input: '' });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('refused the TCP connection');
  });

  it.each([
    ['an SSH server', 'SSH-2.0-OpenSSH_9.2\r\n', /SSH server, not an HTTP proxy/],
    ['a SOCKS server', Buffer.from([5, 0xff]), /SOCKS/],
    ['an endless header', `HTTP/1.1 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(400)}`, /more than 16384 bytes of headers/],
    ['a closed connection mid-answer', 'HTTP/1.1 200 Conn', /closed the connection before answering/],
  ])('exits 3 with a reason when the "proxy" is %s', async (_name, raw, message) => {
    const proxy = await track(startConnectProxy({ raw }));
    const result = await runBurrow(['connect', '-x', proxy.url, 'example.org', '22'], { input: '' });
    expect(result.code).toBe(3);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toMatch(message);
  });
});

describe('connect validates its input before touching the network', () => {
  it.each([
    [['connect', 'bad\r\nX-Injected: 1', '22']],
    [['connect', 'host name', '22']],
    [['connect', 'example.org', '0']],
    [['connect', 'example.org', '65536']],
    [['connect', 'example.org', '22x']],
    [['connect', 'example.org']],
    [['connect', '--bogus', 'example.org', '22']],
    [['connect', '-x', 'ftp://proxy:21', 'example.org', '22']],
  ])('exits 2 for %j and the proxy sees no connection', async (args) => {
    const proxy = await track(startConnectProxy());
    const env = cleanEnv({ BURROW_PROXY: proxy.url });
    const result = await runBurrow(args, { env, input: '' });
    expect(result.code).toBe(2);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toMatch(/^burrow: /);
    expect(proxy.connections).toBe(0);
  });
});

describe('connect follows the environment', () => {
  it('never proxies a loopback target from the environment (Go rule) but does with --proxy', async () => {
    const proxy = await track(startConnectProxy());
    const target = await track(startEchoServer());
    const env = cleanEnv({ HTTPS_PROXY: proxy.url });
    const viaEnv = await runBurrow(['connect', '127.0.0.1', String(target.port)], { env, input: 'a' });
    expect(viaEnv.stdout.toString()).toBe('a');
    expect(proxy.connections).toBe(0);
    const viaFlag = await runBurrow(['connect', '-x', proxy.url, '127.0.0.1', String(target.port)], { env, input: 'b' });
    expect(viaFlag.stdout.toString()).toBe('b');
    expect(proxy.connections).toBe(1);
  });

  it('prints nothing but tunnel bytes on stdout at the highest verbosity', async () => {
    const proxy = await track(startConnectProxy());
    const target = await track(startEchoServer());
    const result = await runBurrow(['connect', '-vvv', '-x', proxy.url, '127.0.0.1', String(target.port)], { input: 'only this' });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('only this');
    expect(result.stderr).toContain('burrow[debug]: dialing');
  });

  it('ends with exit 0 when OpenSSH sends SIGHUP at the end of a session', async () => {
    const proxy = await track(startConnectProxy());
    const target = await track(startEchoServer());
    const result = await runBurrow(['connect', '-x', proxy.url, '127.0.0.1', String(target.port)], {
      onSpawn: (child) => {
        child.stdin!.write('x');
        child.stdout!.once('data', () => child.kill('SIGHUP'));
      },
    });
    expect(result.signal).toBe(null);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('x');
  });
});

describe('connect when its reader goes away', () => {
  it('exits 0 without hanging when whoever reads stdout closes it (EPIPE)', async () => {
    const proxy = await track(startConnectProxy());
    const target = await track(startBannerServer());
    const result = await runBurrow(['connect', '-x', proxy.url, '127.0.0.1', String(target.port)], {
      onSpawn: (child) => {
        child.stdout!.once('data', () => {
          child.stdout!.destroy();
          // Keep the target talking so that burrow's next write to stdout fails.
          const timer = setInterval(() => child.stdin!.write('more\n'), 20);
          child.once('close', () => clearInterval(timer));
        });
      },
    });
    expect(result.signal).toBe(null);
    expect(result.code).toBe(0);
  });
});
