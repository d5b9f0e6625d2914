// The single executable (dist/exe/burrow-linux-x64, `npm run build:exe`) on a machine without Node: every run here
// starts it by its absolute path with an environment that has nothing but a PATH holding links to ssh and git — no
// `node` anywhere on it — plus a HOME and the variables under test. So a ProxyCommand that named `node` or
// bin/burrow would fail here. The peers are real: squid with Basic auth
// (it alone resolves sshd.burrow.test, so a run that reaches that name went through it), OpenSSH's sshd and ssh.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForward } from '../helpers/burrow-forward.ts';
import type { Peer as NodePeer } from '../helpers/node-peers.ts';
import {
  SQUID_PASSWORD,
  SQUID_USER,
  findBinary,
  makeTempDir,
  run,
  runSsh,
  sshBaseOptions,
  startSquid,
  startSshd,
  whyCannotRun,
  withCredentials,
  type RunResult,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';
import { startTeleportProxy } from '../helpers/teleport-proxy.ts';
import { buildTshStandin, HAVE_GO, makeCaFor, TELEPORT_NAME } from '../helpers/wrap-peers.ts';

const EXE = fileURLToPath(new URL(`../../dist/exe/burrow-${process.platform}-${process.arch}`, import.meta.url));
const TARGET_NAME = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'sshd', 'ssh', 'ssh-keygen');
const title = (name: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : name);

describe.skipIf(skipReason)(title('the single executable without Node, through squid to sshd'), () => {
  const stops: Array<() => Promise<void>> = [];
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let squidUrl: string;
  let dir: string;
  let env: (extra?: Record<string, string>) => NodeJS.ProcessEnv;
  const hosts = { [TARGET_NAME]: '127.0.0.1', [TELEPORT_NAME]: '127.0.0.1' };

  beforeAll(async () => {
    dir = makeTempDir('exe');
    // PATH = one directory with links to ssh and its helpers only: no node, no sh-reachable bin/burrow.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const name of ['ssh', 'git']) {
      const found = findBinary(name);
      if (found) symlinkSync(found, join(bin, name));
    }
    const home = join(dir, 'home');
    mkdirSync(home);
    env = (extra = {}) => ({ PATH: bin, HOME: home, XDG_CONFIG_HOME: join(home, 'no-config'), ...extra });
    [sshd, squid] = await Promise.all([startSshd(), startSquid({ auth: true, hosts })]);
    stops.push(() => sshd.stop(), () => squid.stop());
    squidUrl = withCredentials(squid.url, SQUID_USER, SQUID_PASSWORD);
    const noNode = await run(EXE, ['--version'], { env: env() });
    if (noNode.code !== 0) throw new Error(`${EXE} does not run (build it with "npm run build:exe"): ${noNode.stderr}`);
  });
  afterAll(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  const explain = (r: RunResult): string => `exit ${r.code}, signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n${squid.logTail(20)}\n${sshd.logTail(20)}`;

  it('--version says it is the single executable', async () => {
    const result = await run(EXE, ['--version'], { env: env() });
    expect(result.stdout).toMatch(/^burrow \d+\.\d+\.\d+\ninstalled: single executable at /);
    expect(result.stdout).toContain(EXE);
    expect(result.code).toBe(0);
  });

  it('connect serves as OpenSSH\'s ProxyCommand (HTTPS_PROXY with Basic auth)', async () => {
    const result = await runSsh(sshd, 'echo hello through the executable', {
      host: TARGET_NAME,
      proxyCommand: `${EXE} connect %h %p`,
      env: env({ HTTPS_PROXY: squidUrl }),
      timeoutMs: 60_000,
    });
    expect(result.stdout, explain(result)).toBe('hello through the executable\n');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    await expect.poll(() => squid.accessLog(), { timeout: 10_000 }).toContain(`CONNECT ${TARGET_NAME}:${sshd.port} ${SQUID_USER} `);
  });

  it('connect --fdpass under ProxyUseFdpass hands ssh the tunnel socket', async () => {
    const result = await runSsh(sshd, 'echo hello over the passed fd', {
      host: TARGET_NAME,
      proxyCommand: `${EXE} connect --fdpass %h %p`,
      extraArgs: ['-o', 'ProxyUseFdpass=yes'],
      env: env({ HTTPS_PROXY: squidUrl }),
      timeoutMs: 60_000,
    });
    expect(result.stdout, explain(result)).toBe('hello over the passed fd\n');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('connect fails with the proxy\'s answer and its exit code (bad password)', async () => {
    const result = await run(EXE, ['connect', '-x', withCredentials(squid.url, SQUID_USER, 'wrong'), TARGET_NAME, String(sshd.port)], { env: env(), timeoutMs: 30_000 });
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^burrow: .*407.*; hint: /);
    expect(result.stderr).not.toContain('wrong');
    expect(result.code).toBe(4);
  });

  it('exec -- ssh: the ProxyCommand it adds names the executable itself', async () => {
    const args = ['exec', '-v', '--', 'ssh', ...sshBaseOptions(sshd), '-p', String(sshd.port), `${sshd.user}@${TARGET_NAME}`, 'echo hello via exec'];
    const result = await run(EXE, args, { env: env({ HTTPS_PROXY: squidUrl }), timeoutMs: 60_000 });
    expect(result.stdout, explain(result)).toBe('hello via exec\n');
    expect(result.stderr).toContain(`ProxyCommand=${EXE} connect`);
    expect(result.code).toBe(0);
  });

  it('forward -L: ssh to the local port reaches sshd through squid', async () => {
    const forward = await startForward(['-L', `0:${TARGET_NAME}:${sshd.port}`], { env: env({ HTTPS_PROXY: squidUrl }), listeners: 1, burrow: [EXE] });
    stops.push(async () => void (await forward.stop()));
    const result = await runSsh({ ...sshd, port: forward.ports[0]! }, 'echo hello via forward', { env: env(), timeoutMs: 60_000 });
    expect(result.stdout, `${explain(result)}\nforward: ${forward.stderr()}`).toBe('hello via forward\n');
    expect(result.code).toBe(0);
    expect((await forward.stop()).code).toBe(0);
  });

  it('route --pac FILE evaluates the PAC file with the embedded QuickJS', async () => {
    const pac = join(dir, 'proxy.pac');
    writeFileSync(pac, `function FindProxyForURL(url, host) { return host === "${TARGET_NAME}" ? "PROXY 127.0.0.1:${squid.port}" : "DIRECT"; }\n`);
    const result = await run(EXE, ['route', '--pac', pac, TARGET_NAME, '22', '--json'], { env: env(), timeoutMs: 30_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout).plan[0].hops).toEqual([`http://127.0.0.1:${squid.port}`]);
    expect(result.code).toBe(0);
  });

  describe.skipIf(!HAVE_GO)('tsh with the Go stand-in (tsh itself cannot be installed here)', () => {
    let standin: string;
    let ca: ReturnType<typeof makeCaFor>;
    let ping: NodePeer;
    beforeAll(async () => {
      standin = buildTshStandin();
      ca = makeCaFor([TELEPORT_NAME]);
      ping = await startTeleportProxy(ca, { ping: () => ({ cluster_name: 'exe', server_version: '16.0.0', proxy: { tls_routing_enabled: false, ssh: { listen_addr: '0.0.0.0:3023', ssh_public_addr: `${TARGET_NAME}:${sshd.port}` } } }) });
      stops.push(() => ping.close());
    }, 240_000);

    it('a squid -> squid chain: tsh goes through the executable\'s own bridge', async () => {
      const first = await startSquid({ hosts });
      stops.push(() => first.stop());
      const result = await run(EXE, ['tsh', '--tsh', standin, '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], {
        env: env({ BURROW_PROXY: `${first.url},${squidUrl}`, SSL_CERT_FILE: ca.caFile, XDG_CACHE_HOME: join(dir, 'cache') }),
        timeoutMs: 60_000,
      });
      expect(result.stdout, explain(result)).toMatch(/^env HTTPS_PROXY=http:\/\/burrow:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+$/m);
      expect(result.stdout).toMatch(/^banner SSH-2\.0-OpenSSH/m);
      expect(result.code).toBe(0);
      expect(first.accessLog()).toContain(`127.0.0.1:${squid.port}`);
    });
  });
});
