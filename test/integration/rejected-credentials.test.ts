// Lockout-safe credentials (src/dial/auth/rejected.ts): a proxy that rejected a password is not sent the same one
// again by later runs for a while. The Node CONNECT proxy records every request head, so the test counts how many
// times the wrong password reached it. Runs of one test share one XDG_CACHE_HOME. (Real squid with NTLM:
// test/interop/rejected-credentials.test.ts.)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startConnectProxy, startEchoServer, type ConnectProxy } from '../helpers/node-peers.ts';
import { BURROW, cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();
const dir = mkdtempSync(join(tmpdir(), 'burrow-rejected-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const sent = (proxy: ConnectProxy, header: string) => proxy.requests.filter((r) => r.headers['proxy-authorization'] === header).length;

describe('a rejected password is not sent again', () => {
  it('the second run holds it back (exit 4, says why and how to retry); --fresh sends it; a right password goes through', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'alice', password: 'right one' } }));
    const target = await track(startEchoServer());
    const env = cleanEnv({ XDG_CACHE_HOME: mkdtempSync(join(dir, 'cache-')) });
    const wrong = `http://alice:${encodeURIComponent('wrong one')}@127.0.0.1:${proxy.port}`;
    const connect = (url: string, ...extra: string[]) => runBurrow(['connect', '-x', url, ...extra, '127.0.0.1', String(target.port)], { env, input: 'hi' });

    const first = await connect(wrong);
    expect(first.code).toBe(4);
    expect(first.stderr).toMatch(/rejected the credentials for user "alice" \(offered: Basic; tried: Basic\); hint: .*burrow will not send these credentials to this proxy again for 15 minutes.*--fresh/);
    expect(sent(proxy, basic('alice', 'wrong one'))).toBe(1);

    const second = await connect(wrong);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/not sending the password for user "alice" to the proxy http:\/\/127\.0\.0\.1:\d+ .*rejected this same password at \d\d:\d\d.*hint: .*--fresh/);
    expect(sent(proxy, basic('alice', 'wrong one'))).toBe(1);

    // Nothing that could identify the password is stored: no password, no plain hash of it.
    const cache = join(env.XDG_CACHE_HOME!, 'burrow');
    const stored = readdirSync(cache).filter((f) => f.endsWith('.json')).map((f) => readFileSync(join(cache, f), 'utf8')).join('\n');
    expect(stored).not.toContain('wrong one');
    expect(stored).not.toContain(Buffer.from('alice:wrong one').toString('base64'));

    const fresh = await connect(wrong, '--fresh');
    expect(fresh.code).toBe(4);
    expect(sent(proxy, basic('alice', 'wrong one'))).toBe(2);

    const right = await connect(`http://alice:${encodeURIComponent('right one')}@127.0.0.1:${proxy.port}`);
    expect(right.code).toBe(0);
    expect(right.stdout.toString()).toBe('hi');
  });

  const withTty = fileURLToPath(new URL('../helpers/with-tty.py', import.meta.url));
  it.skipIf(spawnSync('python3', ['--version']).status !== 0)('on a terminal, a prompt offers a new password instead of failing', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'alice', password: 'right one' } }));
    const target = await track(startEchoServer());
    const env = cleanEnv({ XDG_CACHE_HOME: mkdtempSync(join(dir, 'cache-')), BURROW_PROXY_USER: 'alice', BURROW_PROXY_PASSWORD: 'wrong one' });
    // The first run (no terminal) gets the rejection.
    expect((await runBurrow(['connect', '-x', proxy.url, '127.0.0.1', String(target.port)], { env, input: '' })).code).toBe(4);
    const ran = spawn('python3', [withTty, 'right one', '--', BURROW, 'connect', '-x', proxy.url, '127.0.0.1', String(target.port)], { env });
    let json = '';
    ran.stdout.on('data', (c: Buffer) => (json += c.toString()));
    await once(ran, 'close');
    const result = JSON.parse(json) as { code: number; stderr: string; tty: string };
    expect(result.code, result.stderr).toBe(0);
    expect(result.tty).toContain('rejected this password for alice earlier');
    expect(result.tty).toContain('password for alice at the proxy');
    expect(sent(proxy, basic('alice', 'wrong one'))).toBe(1);
    expect(sent(proxy, basic('alice', 'right one'))).toBe(1);
  });
});
