import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startConnectProxy, startEchoServer, type FakeNtlmOptions } from '../helpers/node-peers.ts';
import { BURROW, cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
/** A clean environment with its own empty HOME and cache (burrow's per-user memory starts empty). */
function hermetic(): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'burrow-auth-home-'));
  tempDirs.push(home);
  return cleanEnv({ HOME: home, XDG_CACHE_HOME: join(home, '.cache'), NETRC: undefined });
}

describe('407 negotiation', () => {
  it.each<[string, Omit<FakeNtlmOptions, 'user'>]>([
    ['Content-Length bodies on a kept connection', { body: 'length' }],
    ['chunked bodies on a kept connection', { body: 'chunked' }],
    ['a proxy that closes after the first 407, so burrow reconnects', { body: 'length', closeFirst: true }],
    ['a proxy that offers NTLM only', { body: 'length', offerBasic: false }],
  ])('asks without credentials first and answers NTLM, never Basic, with %s', async (_name, ntlm) => {
    const proxy = await track(startConnectProxy({ ntlm: { user: 'alice', ...ntlm } }));
    const target = await track(startEchoServer());
    const result = await runBurrow(['connect', '-vv', '-x', `http://CORP%5Calice:s3cret@127.0.0.1:${proxy.port}`, '127.0.0.1', String(target.port)], { input: 'ntlm', env: hermetic() });
    expect(result.stderr).not.toContain('s3cret');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('ntlm');
    const auth = proxy.requests.map((r) => `${r.connection}:${(r.headers['proxy-authorization'] ?? 'none').split(' ')[0]}`);
    // No credentials until the proxy has said what it wants, then NTLM type 1 and type 3, the last two on one
    // connection; the password never goes out as Basic.
    expect(auth).toEqual(ntlm.closeFirst ? ['1:none', '2:NTLM', '2:NTLM'] : ['1:none', '1:NTLM', '1:NTLM']);
  });

  it('sends Basic with the first CONNECT only under --proxy-auth basic', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'alice', password: 's3cret' } }));
    const target = await track(startEchoServer());
    const result = await runBurrow(['connect', '--proxy-auth', 'basic', '-x', `http://alice:s3cret@127.0.0.1:${proxy.port}`, '127.0.0.1', String(target.port)], { input: 'b', env: hermetic() });
    expect(result.code).toBe(0);
    expect(proxy.requests.map((r) => (r.headers['proxy-authorization'] ?? 'none').split(' ')[0])).toEqual(['Basic']);
  });

  it('remembers a proxy that asked for Basic (never the password) and sends Basic up front to it next time', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'alice', password: 's3cret' } }));
    const target = await track(startEchoServer());
    const env = hermetic();
    const args = ['connect', '-x', `http://alice:s3cret@127.0.0.1:${proxy.port}`, '127.0.0.1', String(target.port)];
    const first = await runBurrow(args, { input: 'a', env });
    expect(first.code).toBe(0);
    const second = await runBurrow(args, { input: 'b', env });
    expect(second.code).toBe(0);
    expect(proxy.requests.map((r) => `${r.connection}:${(r.headers['proxy-authorization'] ?? 'none').split(' ')[0]}`)).toEqual(['1:none', '2:Basic', '3:Basic']);
    const memory = readFileSync(join(env.XDG_CACHE_HOME!, 'burrow', 'basic-proxies.json'), 'utf8');
    expect(memory).toContain(`127.0.0.1:${proxy.port}`);
    expect(memory).not.toContain('s3cret');
    expect(memory).not.toContain('alice');
    // Another proxy is not covered by that memory.
    const other = await track(startConnectProxy({ ntlm: { user: 'alice', offerBasic: false } }));
    const third = await runBurrow(['connect', '-x', `http://alice:s3cret@127.0.0.1:${other.port}`, '127.0.0.1', String(target.port)], { input: 'c', env });
    expect(third.code).toBe(0);
    expect(other.requests.map((r) => (r.headers['proxy-authorization'] ?? 'none').split(' ')[0])).toEqual(['none', 'NTLM', 'NTLM']);
  });

  it('exits 4 naming the offered and tried schemes when NTLM credentials are wrong', async () => {
    const proxy = await track(startConnectProxy({ ntlm: { user: 'alice' } }));
    const result = await runBurrow(['connect', '-x', `http://mallory:guess@127.0.0.1:${proxy.port}`, 'example.org', '22'], { input: '', env: hermetic() });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('rejected the credentials for user "mallory"');
    expect(result.stderr).toMatch(/tried: NTLM\)/);
    expect(result.stderr).not.toContain('guess');
    expect(proxy.requests.some((r) => r.headers['proxy-authorization']?.startsWith('Basic'))).toBe(false);
  });

  it('uses only the scheme --proxy-auth names', async () => {
    const proxy = await track(startConnectProxy({ ntlm: { user: 'alice' } }));
    const target = await track(startEchoServer());
    const result = await runBurrow(['connect', '--proxy-auth', 'ntlm', '-x', `http://alice:pw@127.0.0.1:${proxy.port}`, '127.0.0.1', String(target.port)], { input: 'x' });
    expect(result.code).toBe(0);
    expect(proxy.requests.map((r) => (r.headers['proxy-authorization'] ?? 'none').split(' ')[0])).toEqual(['NTLM', 'NTLM']);
    const bad = await runBurrow(['connect', '--proxy-auth', 'kerberos', '-x', proxy.url, 'example.org', '22'], { input: '' });
    expect(bad.code).toBe(2);
  });

  it('explains a proxy that wants only Negotiate when Kerberos is not available', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'a', password: 'b', schemes: ['Negotiate'] } }));
    const result = await runBurrow(['connect', '-x', proxy.url, 'example.org', '22'], { input: '' });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Negotiate \(Kerberos\)/);
    expect(result.stderr).toMatch(/kinit/);
  });

  it('does not prompt without a terminal and says where credentials can come from', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'a', password: 'b' } }));
    const result = await runBurrow(['connect', '-x', proxy.url, 'example.org', '22'], { input: '' });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('~/.netrc');
    expect(result.stderr).toContain('BURROW_PROXY_USER');
  });
});

describe('the /dev/tty prompt', () => {
  const withTty = fileURLToPath(new URL('../helpers/with-tty.py', import.meta.url));
  const python = spawnSync('python3', ['--version']).status === 0;

  it.skipIf(!python)('asks for user and password on the terminal (echo off for the password), never on stdin', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'alice', password: 'typed secret' } }));
    const target = await track(startEchoServer());
    const ran = spawn('python3', [withTty, 'alice', 'typed secret', '--', BURROW, 'connect', '-x', proxy.url, '127.0.0.1', String(target.port)], { env: cleanEnv() });
    let json = '';
    ran.stdout.on('data', (c: Buffer) => (json += c.toString()));
    await once(ran, 'close');
    const result = JSON.parse(json) as { code: number; stdout: string; stderr: string; tty: string };
    expect(result.code, result.stderr).toBe(0);
    expect(result.tty).toContain(`user name for the proxy ${proxy.url}: alice`);
    expect(result.tty).toContain('password for alice at the proxy');
    expect(result.tty).not.toContain('typed secret');
    expect(proxy.requests.at(-1)!.headers['proxy-authorization']).toBe(`Basic ${Buffer.from('alice:typed secret').toString('base64')}`);
  });
});

describe('hostile proxies', () => {
  const CHUNKED_407 = 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Digest realm="r", nonce="n"\r\nTransfer-Encoding: chunked\r\n\r\n';

  /** A proxy that answers every CONNECT with `answer`; burrow (with credentials) is run against it. */
  async function connectThrough(answer: (client: Socket) => void): Promise<{ port: number; result: Awaited<ReturnType<typeof runBurrow>> }> {
    const server = createServer((client) => {
      client.once('data', () => answer(client));
      client.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      return { port, result: await runBurrow(['connect', '-x', `http://u:p@127.0.0.1:${port}`, 'example.org', '22'], { input: '' }) };
    } finally {
      server.close();
    }
  }
  const authFailed = (port: number, why: string) => new RegExp(`^burrow: authenticating to the proxy http://127\\.0\\.0\\.1:${port} for CONNECT example\\.org:22 failed: ${why}; hint: `);

  it('stops reading a 407 whose chunked body never ends (bounded memory): exit 4 naming proxy and target', async () => {
    const { port, result } = await connectThrough((client) => {
      client.write(`${CHUNKED_407}1`);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (!client.destroyed && client.write(chunk));
        if (!client.destroyed) client.once('drain', pump);
      };
      pump();
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(authFailed(port, '.*a chunk-size or trailer line is too long'));
  });

  it('a 407 whose chunked body declares a 2 MiB chunk: exit 4 naming proxy and target', async () => {
    const { port, result } = await connectThrough((client) => client.write(`${CHUNKED_407}200000\r\n`));
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(authFailed(port, "the proxy's 407 body is larger than 1 MiB"));
  });

  it('--proxy-auth negotiate without a Kerberos ticket: exit 4 naming proxy, target and Negotiate, not an internal error', async () => {
    const server = createServer((client) => {
      client.once('data', () => client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n'));
      client.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      // An empty ticket cache: whether or not the optional kerberos module is built, Negotiate cannot start.
      const env = { ...hermetic(), KRB5CCNAME: `FILE:${join(tmpdir(), 'burrow-no-such-ccache')}` };
      const result = await runBurrow(['connect', '--proxy-auth', 'negotiate', '-x', `http://127.0.0.1:${port}`, 'example.org', '22'], { input: '', env });
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(new RegExp(`^burrow: cannot authenticate to the proxy http://127\\.0\\.0\\.1:${port} for CONNECT example\\.org:22 with Negotiate \\(--proxy-auth negotiate\\): .*; hint: .*kinit`));
      expect(result.stderr).not.toContain('internal error');
    } finally {
      server.close();
    }
  });

  it('rejects a control character smuggled into the user name (percent-encoded CR LF), exit 2', async () => {
    const proxy = await track(startConnectProxy());
    const result = await runBurrow(['connect', '-x', `http://evil%0D%0AX-Injected:%201:pw@127.0.0.1:${proxy.port}`, 'example.org', '22'], { input: '' });
    expect(result.code).toBe(2);
    expect(proxy.connections).toBe(0);
  });
});
