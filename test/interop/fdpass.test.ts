// `burrow connect --fdpass` with OpenSSH's ProxyUseFdpass against real proxies and a real sshd: squid (open, Basic,
// NTLM through ntlm_fake_auth), dante (socks5h), a squid → dante chain, a direct NO_PROXY target, an https:// proxy
// (a TLS front over squid: no TLS-terminating proxy is installable here) and a proxy that coalesces the SSH banner
// with its 200 (the Node stand-in, since no real proxy can be made to do it on purpose). Each runs a command and
// copies 20 MB each way with scp, checksums compared; while a session is open, ps shows no burrow process.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesWithEnv } from '../../peers/processes.ts';
import { startConnectProxy, type ConnectProxy } from '../helpers/node-peers.ts';
import {
  SQUID_PASSWORD,
  SQUID_USER,
  cleanEnv,
  makeTempDir,
  run,
  runScp,
  runSsh,
  sha256File,
  shellQuote,
  sshBaseOptions,
  startDante,
  startSquid,
  startSshd,
  whyCannotRun,
  withCredentials,
  type Peer,
  type RunResult,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';
import { makeTestCa, startTlsFront, type TestCa } from '../helpers/tls-proxy.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const TARGET = 'sshd.burrow.test';
const BIG_FILE_BYTES = 20 * 1024 * 1024;
const FDPASS = ['-o', 'ProxyUseFdpass=yes'];
const skipReason = whyCannotRun('squid', 'danted', 'sshd', 'ssh', 'scp', 'ssh-keygen', 'unshare');

// OpenSSH expands % in the whole ProxyCommand: percent-encoded URLs need their % doubled.

const proxyCommand = (...args: string[]): string => [BURROW, 'connect', '--fdpass', ...args.map((a) => shellQuote(a).replace(/%/g, '%%')), '%h', '%p'].join(' ');

describe.skipIf(skipReason !== undefined)(`connect --fdpass under ProxyUseFdpass, real proxies${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sshd: SshdPeer;
  let squidOpen: SquidPeer;
  let squidBasic: SquidPeer;
  let squidNtlm: SquidPeer;
  let squid443: SquidPeer;
  let dante: Peer;
  let coalescing: ConnectProxy;
  let tlsFront: Awaited<ReturnType<typeof startTlsFront>>;
  let ca: TestCa;
  let work: string;
  let bigFile: string;
  const started: Array<{ stop?(): Promise<void>; close?(): Promise<void> }> = [];

  beforeAll(async () => {
    const hosts = { [TARGET]: '127.0.0.1' };
    const keep = <T extends { stop?(): Promise<void>; close?(): Promise<void> }>(p: Promise<T>): Promise<T> => p.then((x) => (started.push(x), x));
    [sshd, squidOpen, squidBasic, squidNtlm, squid443, dante, coalescing] = await Promise.all([
      keep(startSshd()),
      keep(startSquid({ hosts })),
      keep(startSquid({ auth: true, hosts })),
      keep(startSquid({ auth: true, authSchemes: ['ntlm', 'basic'], hosts })),
      keep(startSquid({ connectPorts: [443], hosts })),
      keep(startDante({ hosts })),
      keep(startConnectProxy({ coalesce: true, hosts })),
    ]);
    ca = makeTestCa();
    tlsFront = await keep(startTlsFront(ca, { ...squidOpen, connections: 0, close: () => Promise.resolve() }));
    work = makeTempDir('fdpass-work');
    mkdirSync(join(work, 'home'));
    bigFile = join(work, 'big.bin');
    writeFileSync(bigFile, randomBytes(BIG_FILE_BYTES));
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => (p.stop ? p.stop() : p.close?.())));
    if (work) rmSync(work, { recursive: true, force: true });
    if (ca) rmSync(ca.dir, { recursive: true, force: true });
  });

  const context = (result: RunResult, ...peers: Array<Peer | undefined>): string =>
    [
      `exit ${result.code} (signal ${result.signal}, timed out ${result.timedOut}, ${result.durationMs} ms)`,
      `stdout: ${result.stdout.slice(0, 2000)}`,
      `stderr: ${result.stderr.slice(0, 4000)}`,
      ...[sshd, ...peers].filter((p): p is Peer => p !== undefined && typeof p.logTail === 'function').map((p) => p.logTail(30)),
    ].join('\n');

  interface Route {
    name: string;
    host: string;
    env: () => Record<string, string>;
    args: () => string[];
    peers: () => Array<Peer | undefined>;
    /** A background relay is expected (TLS hop): ps may show one burrow while the session is open. */
    relays?: boolean;
  }

  const routes: Route[] = [
    { name: 'squid, no auth', host: TARGET, env: () => ({ HTTPS_PROXY: squidOpen.url }), args: () => [], peers: () => [squidOpen] },
    { name: 'squid, Basic (percent-encoded password)', host: TARGET, env: () => ({ HTTPS_PROXY: withCredentials(squidBasic.url, SQUID_USER, SQUID_PASSWORD) }), args: () => [], peers: () => [squidBasic] },
    {
      name: 'squid, NTLM (three legs on one connection)',
      host: TARGET,
      env: () => ({}),
      args: () => ['-x', `http://CORP%5Calice:${encodeURIComponent('n7lm p@ss')}@127.0.0.1:${squidNtlm.port}`, '--proxy-auth', 'ntlm'],
      peers: () => [squidNtlm],
    },
    { name: 'dante, socks5h', host: TARGET, env: () => ({ ALL_PROXY: dante.url }), args: () => [], peers: () => [dante] },
    { name: 'a squid → dante chain', host: TARGET, env: () => ({}), args: () => ['-x', squidOpen.url, '-x', dante.url], peers: () => [squidOpen, dante] },
    { name: 'a direct NO_PROXY target', host: '127.0.0.1', env: () => ({ HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' }), args: () => [], peers: () => [] },
    { name: 'a proxy that sends the SSH banner with its 200', host: TARGET, env: () => ({}), args: () => ['-x', coalescing.url], peers: () => [] },
    { name: 'an https:// proxy (TLS front over squid)', host: TARGET, env: () => ({}), args: () => ['-x', tlsFront.url, '--proxy-ca', ca.caFile], peers: () => [squidOpen], relays: true },
  ];

  for (const route of routes) describe(route.name, () => {
    const options = () => ({ host: route.host, proxyCommand: proxyCommand(...route.args()), env: cleanEnv({ HOME: join(work, 'home'), ...route.env() }), extraArgs: FDPASS });

    it('runs a remote command', async () => {
      const result = await runSsh(sshd, 'echo hello from sshd; id -un', { ...options(), timeoutMs: 30_000 });
      const why = context(result, ...route.peers());
      expect(result.code, why).toBe(0);
      expect(result.stdout, why).toBe(`hello from sshd\n${sshd.user}\n`);
    });

    it('scp copies 20 MB up and back, sha256 intact', async () => {
      const slug = route.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
      const remoteDir = join(sshd.dir, 'incoming');
      mkdirSync(remoteDir, { recursive: true });
      const remotePath = join(remoteDir, `fdpass-${slug}.bin`);
      const back = join(work, `${slug}.back`);
      const up = await runScp(sshd, 'upload', bigFile, remotePath, { ...options(), timeoutMs: 90_000 });
      expect(up.code, context(up, ...route.peers())).toBe(0);
      expect(sha256File(remotePath)).toBe(sha256File(bigFile));
      const down = await runScp(sshd, 'download', back, remotePath, { ...options(), timeoutMs: 90_000 });
      expect(down.code, context(down, ...route.peers())).toBe(0);
      expect(sha256File(back)).toBe(sha256File(bigFile));
      rmSync(remotePath, { force: true });
      rmSync(back, { force: true });
    });

    it(route.relays ? 'while a session is open, only the background relay runs (the ProxyCommand has exited)' : 'while a session is open, no burrow process runs', async () => {
      const { host, proxyCommand: command, env } = options();
      // Every process started for this session inherits the marker, whatever its parent or title becomes.
      const marker = `FDPASS_TEST_SESSION=${randomBytes(8).toString('hex')}`;
      const [name, value] = marker.split('=') as [string, string];
      const ssh = spawn('ssh', [...sshBaseOptions(sshd, command), ...FDPASS, '-p', String(sshd.port), `${sshd.user}@${host}`, 'echo open; exec sleep 60'], { env: { ...env, [name]: value }, stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        let out = '';
        ssh.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        await expect.poll(() => out, { timeout: 20_000 }).toBe('open\n');
        const others = processesWithEnv(marker).filter((p) => p.pid !== ssh.pid);
        const burrows = others.filter((p) => p.cmdline.includes('burrow'));
        expect(others.map((p) => p.cmdline), 'only burrow processes may carry the marker besides ssh').toEqual(burrows.map((p) => p.cmdline));
        expect(burrows.length, JSON.stringify(others)).toBe(route.relays ? 1 : 0);
      } finally {
        ssh.kill('SIGTERM');
      }
    });
  });

  it('a 403 exits 3 with the same message as without --fdpass; under ssh, ssh shows it', async () => {
    const env = cleanEnv({ HOME: join(work, 'home'), HTTPS_PROXY: squid443.url });
    const plain = await run(process.execPath, [BURROW, 'connect', TARGET, String(sshd.port)], { env, timeoutMs: 30_000 });
    // run() gives the child a socketpair as stdout, as ssh does with ProxyUseFdpass.
    const passing = await run(process.execPath, [BURROW, 'connect', '--fdpass', TARGET, String(sshd.port)], { env, timeoutMs: 30_000 });
    expect(plain.code, context(plain, squid443)).toBe(3);
    expect(passing.code, context(passing, squid443)).toBe(3);
    expect(passing.stderr).toBe(plain.stderr);
    expect(passing.stderr).toContain('403');
    const ssh = await runSsh(sshd, 'true', { host: TARGET, proxyCommand: proxyCommand(), env, extraArgs: FDPASS });
    expect(ssh.code, context(ssh, squid443)).toBe(255);
    expect(ssh.stderr).toContain(plain.stderr.trim());
  });
});
