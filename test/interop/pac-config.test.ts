// PAC failover, config rules and proxychains.conf against real squid and dante, with OpenSSH running a command on a
// real sshd through `ProxyCommand burrow connect %h %p` (test/helpers/real-peers.ts).
//
// PAC answers and a config default never apply to loopback targets, so the proxied cases use the name
// sshd.burrow.test, which only the proxies resolve (squid's hosts_file; dante's private /etc/hosts): a run that
// succeeds with that name went through a proxy.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  closedPort,
  makeTempDir,
  runSsh,
  shellQuote,
  startDante,
  startSquid,
  startSshd,
  whyCannotRun,
  type Peer,
  type RunResult,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';
import { pacEngineSpy } from '../helpers/pac-engine-spy.ts';
import { startPacServer } from '../helpers/pac-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BURROW = join(ROOT, 'bin', 'burrow');
const TARGET_NAME = 'sshd.burrow.test';
const REMOTE = 'echo hello from sshd; id -un';

const skipReason = whyCannotRun('squid', 'danted', 'sshd', 'ssh', 'ssh-keygen', 'unshare');
const title = (name: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : name);

const proxyCommand = (...args: string[]): string =>
  [BURROW, 'connect', '%h', '%p', ...args].map((w) => (w === '%h' || w === '%p' ? w : shellQuote(w).replace(/%/g, '%%'))).join(' ');

describe.skipIf(skipReason !== undefined)(title('PAC failover and config rules with real squid, dante and sshd'), () => {
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let dante: Peer;
  let blackHole: Server;
  let blackHolePort: number;
  const blackHoleSockets = new Set<Socket>();
  let refusedPort: number;
  let work: string;
  let home: string;
  const started: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    const hosts = { [TARGET_NAME]: '127.0.0.1' };
    const keep = <T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> => p.then((x) => (started.push(x), x));
    [sshd, squid, dante] = await Promise.all([keep(startSshd()), keep(startSquid({ hosts })), keep(startDante({ hosts }))]);
    // A "dead" proxy that accepts TCP and never answers (the worst kind: only a timeout gets past it).
    blackHole = createServer((socket) => {
      blackHoleSockets.add(socket);
      socket.on('close', () => blackHoleSockets.delete(socket));
      socket.on('error', () => {});
    });
    blackHole.listen(0, '127.0.0.1');
    await once(blackHole, 'listening');
    blackHolePort = (blackHole.address() as AddressInfo).port;
    refusedPort = await closedPort();
    work = makeTempDir('pac-config-work');
    home = join(work, 'home');
    mkdirSync(home);
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    for (const socket of blackHoleSockets) socket.destroy();
    if (blackHole) await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const context = (result: RunResult, ...peers: Peer[]): string =>
    [
      `exit ${result.code} (signal ${result.signal}, timed out ${result.timedOut}, ${result.durationMs} ms)`,
      `stdout: ${result.stdout.slice(0, 2000)}`,
      `stderr: ${result.stderr.slice(0, 4000)}`,
      ...[sshd, ...peers].map((p) => p.logTail(30)),
    ].join('\n');

  const file = (name: string, text: string): string => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };

  it('a PAC listing a dead proxy first and squid second: ssh runs through squid within the per-alternative limit', async () => {
    const pac = file('failover.pac', `function FindProxyForURL(url, host) {\n  return "PROXY 127.0.0.1:${blackHolePort}; PROXY ${squid.host}:${squid.port}";\n}\n`);
    const result = await runSsh(sshd, REMOTE, {
      host: TARGET_NAME,
      proxyCommand: proxyCommand('--alternative-timeout', '2'),
      env: cleanEnv({ HOME: home, BURROW_PAC: pac }),
      timeoutMs: 30_000,
    });
    const why = context(result, squid);
    expect(result.code, why).toBe(0);
    expect(result.stdout, why).toBe(`hello from sshd\n${sshd.user}\n`);
    await expect.poll(() => squid.accessLog(), { timeout: 10_000 }).toContain(`CONNECT ${TARGET_NAME}:${sshd.port}`);
  });

  it('a PAC listing a refused proxy, then dante (SOCKS5): ssh runs through dante', async () => {
    const pac = file('socks.pac', `function FindProxyForURL(url, host) {\n  if (dnsDomainIs(host, ".burrow.test")) return "PROXY 127.0.0.1:${refusedPort}; SOCKS5 ${dante.host}:${dante.port}";\n  return "DIRECT";\n}\n`);
    const result = await runSsh(sshd, REMOTE, { host: TARGET_NAME, proxyCommand: proxyCommand('--pac', pac), env: cleanEnv({ HOME: home }), timeoutMs: 30_000 });
    const why = context(result, dante);
    expect(result.code, why).toBe(0);
    expect(result.stdout, why).toBe(`hello from sshd\n${sshd.user}\n`);
    await expect.poll(() => dante.logTail(200), { timeout: 10_000 }).toMatch(new RegExp(`pass\\(\\d+\\): tcp/connect .*127\\.0\\.0\\.1\\.${sshd.port}`));
  });

  it('a PAC URL: the second ssh takes its route through squid from the memory, without fetching or loading the engine', async () => {
    const server = await startPacServer(() => ({ headers: { 'cache-control': 'max-age=600' }, body: `function FindProxyForURL(url, host) {\n  return "PROXY ${squid.host}:${squid.port}";\n}\n` }));
    started.push({ stop: () => server.close() });
    const cache = join(work, 'pac-url-cache');
    const watchEngine = pacEngineSpy(work);
    const tunnels = () => squid.accessLog().split(`CONNECT ${TARGET_NAME}:${sshd.port}`).length - 1;
    const before = tunnels();
    const ssh = async () => {
      const watch = watchEngine();
      const result = await runSsh(sshd, REMOTE, { host: TARGET_NAME, proxyCommand: proxyCommand('--pac', `${server.url}/proxy.pac`), env: cleanEnv({ HOME: home, XDG_CACHE_HOME: cache, ...watch.env }), timeoutMs: 30_000 });
      expect(result.code, context(result, squid)).toBe(0);
      expect(result.stdout).toBe(`hello from sshd\n${sshd.user}\n`);
      return watch.loaded();
    };
    expect(await ssh()).toContain('pac-engine.cjs');
    expect(await ssh()).toEqual([]);
    expect(server.requests).toHaveLength(1);
    // Both sessions went through squid.
    await expect.poll(() => tunnels() - before, { timeout: 10_000 }).toBe(2);
  });

  it('config rules: the sshd name through a squid -> dante chain, 127.0.0.1 direct (HTTPS_PROXY is a dead end)', async () => {
    const configHome = join(work, 'xdg');
    mkdirSync(join(configHome, 'burrow'), { recursive: true });
    writeFileSync(
      join(configHome, 'burrow', 'config.yaml'),
      [
        'proxies:',
        `  squid: ${squid.url}`,
        `  dante: ${dante.url}`,
        'rules:',
        '  - name: the test sshd by name',
        `    hosts: ["*.burrow.test"]`,
        `    ports: [${sshd.port}]`,
        '    chain: [squid, dante]',
        '  - hosts: [127.0.0.1]',
        '    direct: true',
        '',
      ].join('\n'),
    );
    const env = cleanEnv({ HOME: home, XDG_CONFIG_HOME: configHome, HTTPS_PROXY: `http://127.0.0.1:${refusedPort}` });
    const chained = await runSsh(sshd, REMOTE, { host: TARGET_NAME, proxyCommand: proxyCommand(), env, timeoutMs: 30_000 });
    expect(chained.code, context(chained, squid, dante)).toBe(0);
    expect(chained.stdout).toBe(`hello from sshd\n${sshd.user}\n`);
    // The chain: squid was asked for dante, never for sshd; dante reached sshd.
    await expect.poll(() => squid.accessLog(), { timeout: 10_000 }).toContain(`CONNECT 127.0.0.1:${dante.port}`);

    const direct = await runSsh(sshd, REMOTE, { host: '127.0.0.1', proxyCommand: proxyCommand(), env, timeoutMs: 30_000 });
    expect(direct.code, context(direct)).toBe(0);
    expect(direct.stdout).toBe(`hello from sshd\n${sshd.user}\n`);
  });

  it('proxychains.conf dynamic_chain: a dead first hop is skipped, ssh runs through dante', async () => {
    const conf = file('proxychains.conf', ['dynamic_chain', 'proxy_dns', '[ProxyList]', `http 127.0.0.1 ${refusedPort}`, `socks5 ${dante.host} ${dante.port}`, ''].join('\n'));
    const result = await runSsh(sshd, REMOTE, { host: TARGET_NAME, proxyCommand: proxyCommand('--proxychains-conf', conf), env: cleanEnv({ HOME: home }), timeoutMs: 30_000 });
    expect(result.code, context(result, dante)).toBe(0);
    expect(result.stdout).toBe(`hello from sshd\n${sshd.user}\n`);
  });
});
