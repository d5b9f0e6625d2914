import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startConnectProxy, startSocks5Server, startSshServer } from '../helpers/node-peers.ts';
import { HAVE_SSH, runSsh, sshArgs } from '../helpers/openssh-client.ts';
import { processesWithEnv } from '../../peers/processes.ts';
import { BURROW, cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { makeTestCa, startTlsFront } from '../helpers/tls-proxy.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();
const fdpass = (...args: string[]): string => `${BURROW} connect --fdpass ${args.join(' ')} %h %p`;
const FDPASS = ['-o', 'ProxyUseFdpass=yes'];
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

interface LogLine {
  msg: string;
  pid: number;
  early_bytes?: number;
  sent?: number;
}

/**
 * Runs `fn` with a fresh log file for burrow (-vv --log-file) and a fresh state directory (nothing remembered about
 * a proxy that once had this port), and gives back the log's entries.
 */
async function withLogFile<T>(fn: (logArgs: string, env: NodeJS.ProcessEnv) => Promise<T>): Promise<{ result: T; log: LogLine[]; text: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-fdpass-'));
  const file = join(dir, 'log');
  try {
    const result = await fn(`-vv --log-file ${file}`, cleanEnv({ XDG_CACHE_HOME: join(dir, 'cache') }));
    const text = readFileSync(file, 'utf8');
    return { result, text, log: text.trim().split('\n').map((line) => JSON.parse(line) as LogLine) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ProxyCommand passed the tunnel's own socket: nothing was read past the answer (no background relay). */
function expectHandedDirectly(log: LogLine[]): void {
  expect(log.map((line) => line.msg)).toContain('tunnel handed to ssh (ProxyUseFdpass)');
  expect(log.filter((line) => line.msg.startsWith('bytes were read past'))).toEqual([]);
}

/** Node binaries to run `connect --fdpass` with besides this one (colon-separated paths), e.g. other Node majors. */
const otherNodes = (process.env.BURROW_TEST_NODES ?? '').split(':').filter(Boolean);

// The real OpenSSH client with ProxyUseFdpass: burrow opens the tunnel, passes the socket to ssh and exits. The
// proxies are the Node stand-ins (test/helpers/node-peers.ts) so that the cases that matter here can be forced: the
// banner in the same segment as the 200, an answer trickled a byte at a time. Real squid, dante and sshd: the
// interop suite's fdpass.test.ts.
describe.skipIf(!HAVE_SSH)('connect --fdpass under OpenSSH ProxyUseFdpass', () => {
  it('a proxy that sends the SSH banner in the same write as its 200: not a byte lost, burrow gone', async () => {
    const proxy = await track(startConnectProxy({ coalesce: true }));
    const sshd = await track(startSshServer());
    const payload = randomBytes(4 * 1024 * 1024);
    const { result, log } = await withLogFile((logArgs, env) => runSsh({ host: '127.0.0.1', port: sshd.port, proxyCommand: fdpass(logArgs, '-x', proxy.url), command: 'sha256sum', input: payload, env, extra: FDPASS }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${sha256(payload)}  -\n`);
    expectHandedDirectly(log);
  });

  it('a SOCKS5 proxy that sends the SSH banner in the same write as its reply: not a byte lost (five runs)', async () => {
    const socks = await track(startSocks5Server(undefined, {}, { coalesce: true }));
    const sshd = await track(startSshServer());
    const payload = randomBytes(1024 * 1024);
    for (let round = 0; round < 5; round++) {
      const proxy = `socks5h://127.0.0.1:${socks.port}`;
      const { result, log } = await withLogFile((logArgs, env) => runSsh({ host: '127.0.0.1', port: sshd.port, proxyCommand: fdpass(logArgs, '-x', proxy), command: 'sha256sum', input: payload, env, extra: FDPASS }));
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.toString()).toBe(`${sha256(payload)}  -\n`);
      // The socket itself went to ssh: the fallback below must not hide a read past the SOCKS reply.
      expectHandedDirectly(log);
    }
  });

  it('bytes read past the answer (a proxy that answers ahead of the credentials): a background burrow relays them first', async () => {
    // The 407's body is read in bulk, and this stand-in sends the 200 and the SSH banner behind it before it has the
    // credentials: the banner lands in burrow. Without the fallback this failed with "22 bytes were read past".
    const proxy = await track(startConnectProxy({ answerAhead: true, auth: { user: 'u', password: 'p w' } }));
    const sshd = await track(startSshServer());
    const payload = randomBytes(1024 * 1024);
    const proxyUrl = `http://u:p%%20w@127.0.0.1:${proxy.port}`;
    const { result, log, text } = await withLogFile((logArgs, env) => runSsh({ host: '127.0.0.1', port: sshd.port, proxyCommand: fdpass(logArgs, '-x', proxyUrl), command: 'sha256sum', input: payload, env, extra: FDPASS }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${sha256(payload)}  -\n`);
    expect(proxy.requests.map((r) => r.headers['proxy-authorization'] !== undefined)).toEqual([false, true]);
    const fallback = log.find((line) => line.msg.startsWith('bytes were read past'));
    expect(fallback?.early_bytes).toBeGreaterThan(0);
    // The relay ran in another process, which closed the tunnel after the whole payload.
    const closed = log.find((line) => line.msg === 'tunnel closed');
    expect(closed?.pid).not.toBe(fallback?.pid);
    expect(closed?.sent).toBeGreaterThan(payload.length);
    expect(text).not.toContain('p w');
  });

  it('the fallback relay: the ProxyCommand gone, one relay while the session is open (no password in its process listing), none after', async () => {
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const proxy = await track(startConnectProxy({ answerAhead: true, auth: { user: 'u', password } }));
    const sshd = await track(startSshServer());
    // Every process started for this session inherits the marker (as in the interop suite's fdpass test).
    const marker = `FDPASS_FALLBACK_TEST=${randomBytes(8).toString('hex')}`;
    const [name, value] = marker.split('=') as [string, string];
    const proxyCommand = fdpass('-x', `http://u:${password}@127.0.0.1:${proxy.port}`);
    const cache = mkdtempSync(join(tmpdir(), 'burrow-fdpass-cache-'));
    const env = { ...cleanEnv({ XDG_CACHE_HOME: cache }), [name]: value };
    // sha256sum reads until stdin ends: the session stays open while the test looks.
    const ssh = spawn('ssh', sshArgs({ host: '127.0.0.1', port: sshd.port, proxyCommand, command: 'sha256sum', extra: FDPASS }), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const closed = new Promise<number | null>((resolve) => ssh.once('close', resolve));
    const burrows = () => processesWithEnv(marker).filter((p) => p.pid !== ssh.pid && p.cmdline.includes('burrow'));
    try {
      await expect.poll(() => sshd.commands, { timeout: 20_000 }).toEqual(['sha256sum']);
      // ssh waits for the ProxyCommand to exit before it authenticates: the one burrow left is the relay it started.
      // (Its command line shows burrow's process title; the password went over the control pipe either way.)
      await expect.poll(() => burrows().length, { timeout: 20_000 }).toBe(1);
      expect(burrows()[0]!.cmdline).not.toContain(password);
      ssh.stdin.end('bytes through the relay');
    } finally {
      if (!ssh.stdin.writableEnded) ssh.kill('SIGTERM');
    }
    try {
      expect(await closed).toBe(0);
      await expect.poll(() => burrows(), { timeout: 20_000 }).toEqual([]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('a direct route: the banner the server sends at once stays in the socket for ssh', async () => {
    const sshd = await track(startSshServer());
    for (let round = 0; round < 3; round++) {
      const result = await runSsh({ host: '127.0.0.1', port: sshd.port, proxyCommand: fdpass('--direct'), command: 'hostname', env: cleanEnv(), extra: FDPASS });
      expect(result.stderr).toBe('');
      expect(result.stdout.toString()).toBe('ran: hostname\n');
    }
  });

  it('an answer trickled one byte at a time, 407 then 200 on one connection', async () => {
    const proxy = await track(startConnectProxy({ trickle: true, coalesce: true, auth: { user: 'u', password: 'p w' } }));
    const sshd = await track(startSshServer());
    const result = await runSsh({ host: '127.0.0.1', port: sshd.port, proxyCommand: fdpass('-x', `http://u:p%%20w@127.0.0.1:${proxy.port}`), command: 'hostname', env: cleanEnv(), extra: FDPASS });
    expect(result.stderr).toBe('');
    expect(result.stdout.toString()).toBe('ran: hostname\n');
    expect(result.code).toBe(0);
  });

  it('an HTTP proxy then a SOCKS5 proxy (socks5h), 4 MB through, checksums equal', async () => {
    const http = await track(startConnectProxy());
    const socks = await track(startSocks5Server(undefined, { 'sshd.burrow.test': '127.0.0.1' }));
    const sshd = await track(startSshServer());
    const payload = randomBytes(4 * 1024 * 1024);
    const env = cleanEnv({ BURROW_PROXY: `${http.url},socks5h://127.0.0.1:${socks.port}` });
    const result = await runSsh({ host: 'sshd.burrow.test', port: sshd.port, proxyCommand: fdpass(), command: 'sha256sum', input: payload, env, extra: FDPASS });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${sha256(payload)}  -\n`);
    expect(socks.requests).toEqual(['domain sshd.burrow.test']);
  });

  it('an https:// proxy: a background burrow relays the TLS tunnel, the ProxyCommand itself exits', async () => {
    const ca = makeTestCa();
    const inner = await track(startConnectProxy());
    const front = await track(startTlsFront(ca, inner));
    const sshd = await track(startSshServer());
    const payload = randomBytes(4 * 1024 * 1024);
    const result = await runSsh({ host: '127.0.0.1', port: sshd.port, proxyCommand: fdpass('-x', front.url, '--proxy-ca', ca.caFile), command: 'sha256sum', input: payload, env: cleanEnv(), extra: FDPASS });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${sha256(payload)}  -\n`);
    expect(front.handshakes).toBe(1);
  });

  it('a 403 exits 3 with the same message as without --fdpass, and ssh shows it', async () => {
    const proxy = await track(startConnectProxy({ only443: true }));
    // Node gives a child a socketpair for a 'pipe' stdout, as ssh does with ProxyUseFdpass.
    const plain = await runBurrow(['connect', '-x', proxy.url, 'jump.example.org', '22'], { input: '' });
    const passing = await runBurrow(['connect', '--fdpass', '-x', proxy.url, 'jump.example.org', '22'], { input: '' });
    expect(plain.code).toBe(3);
    expect(passing.code).toBe(3);
    expect(passing.stderr).toBe(plain.stderr);
    expect(passing.stdout.length).toBe(0);
    const ssh = await runSsh({ host: 'jump.example.org', port: 22, proxyCommand: fdpass('-x', proxy.url), command: 'true', env: cleanEnv(), extra: FDPASS });
    expect(ssh.code).toBe(255);
    expect(ssh.stderr).toContain(plain.stderr.trim());
  });

  it('stdout not a socket (no ProxyUseFdpass): exit 2 naming ProxyUseFdpass, before any proxy is asked', async () => {
    const proxy = await track(startConnectProxy());
    // A shell pipeline gives burrow a pipe(2) as stdout, as ssh does without ProxyUseFdpass.
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const script = '"$0" connect --fdpass -x "$1" 127.0.0.1 22 | cat; exit $((PIPESTATUS[0]))';
      const child = spawn('bash', ['-c', script, BURROW, proxy.url], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^burrow: connect --fdpass needs stdout to be a Unix socket.*ProxyUseFdpass yes/);
    expect(proxy.requests).toHaveLength(0);
  });

  it.skipIf(otherNodes.length === 0)('on every Node in BURROW_TEST_NODES: the socket itself after a coalesced 200 or SOCKS reply, the fallback relay after a read past', async () => {
    const proxy = await track(startConnectProxy({ coalesce: true }));
    const socks = await track(startSocks5Server(undefined, {}, { coalesce: true }));
    const sshd = await track(startSshServer());
    for (const node of otherNodes) {
      // A new proxy for each Node: burrow remembers that a proxy asked for Basic, and sends it at once next time.
      const ahead = await track(startConnectProxy({ answerAhead: true, auth: { user: 'u', password: 'p' } }));
      const cases = [
        { via: proxy.url, fallback: false },
        { via: `socks5h://127.0.0.1:${socks.port}`, fallback: false },
        { via: `http://u:p@127.0.0.1:${ahead.port}`, fallback: true },
      ];
      for (const { via, fallback } of cases) {
        const { result, log } = await withLogFile((logArgs, env) => runSsh({ host: '127.0.0.1', port: sshd.port, proxyCommand: `${node} ${fdpass(logArgs, '-x', via)}`, command: 'hostname', env, extra: FDPASS }));
        expect(`${node} via ${via}: ${result.stdout.toString()}${result.stderr}`).toBe(`${node} via ${via}: ran: hostname\n`);
        if (fallback) expect(log.find((line) => line.msg.startsWith('bytes were read past'))?.early_bytes).toBeGreaterThan(0);
        else expectHandedDirectly(log);
      }
    }
  });
});

