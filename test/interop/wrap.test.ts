// burrow exec, burrow tsh and burrow ssh-config against real daemons (test/helpers/real-peers.ts): OpenSSH's ssh
// and git over ssh through squid with Basic auth; a `burrow ssh-config` block used by plain `ssh -F FILE`; the Go
// tsh stand-in (test/fixtures/tsh-standin) through squid with Basic auth (the URL exported to tsh), through a
// squid -> dante chain (the bridge), and through a squid that allows only the web port while direct SSH works.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Peer as NodePeer } from '../helpers/node-peers.ts';
import { BURROW } from '../helpers/run-burrow.ts';
import {
  SQUID_PASSWORD,
  SQUID_USER,
  cleanEnv,
  makeTempDir,
  run,
  sshBaseOptions,
  startDante,
  startSquid,
  startSshd,
  whyCannotRun,
  withCredentials,
  type Peer,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';
import { buildTshStandin, HAVE_GO, loopbackNameFromHosts, makeCaFor, startBannerOn, TELEPORT_NAME, type HostCa } from '../helpers/wrap-peers.ts';
import { startTeleportProxy, type TeleportProxy } from '../helpers/teleport-proxy.ts';

const TARGET_NAME = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'danted', 'sshd', 'ssh', 'ssh-keygen', 'unshare', 'git');
const title = (name: string, extra?: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : extra ? `${name} (skipped: ${extra})` : name);
const LOOPBACK_NAME = loopbackNameFromHosts();

describe.skipIf(skipReason)(title('burrow exec / ssh-config / tsh with squid, dante and sshd'), () => {
  // Real daemons stop(); Node peers close().
  const peers: Array<() => Promise<void>> = [];
  const keep = async <T extends { close(): Promise<void> } | { stop(): Promise<void> }>(peer: Promise<T>): Promise<T> => {
    const started = await peer;
    peers.push(() => ('stop' in started ? started.stop() : started.close()));
    return started;
  };
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let squidAuthUrl: string;
  let dir: string;
  const hosts = { [TARGET_NAME]: '127.0.0.1', [TELEPORT_NAME]: '127.0.0.1' };

  beforeAll(async () => {
    dir = makeTempDir('wrap');
    [sshd, squid] = await Promise.all([keep(startSshd()), keep(startSquid({ auth: true, hosts }))]);
    squidAuthUrl = withCredentials(squid.url, SQUID_USER, SQUID_PASSWORD);
  });
  afterAll(async () => {
    await Promise.all(peers.splice(0).map((stop) => stop()));
  });

  it('burrow exec -- ssh through squid with Basic auth', async () => {
    const result = await run(BURROW, ['exec', '--', 'ssh', ...sshBaseOptions(sshd), '-p', String(sshd.port), `${sshd.user}@${TARGET_NAME}`, 'echo hello via exec'], {
      env: cleanEnv({ HTTPS_PROXY: squidAuthUrl }),
      timeoutMs: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('hello via exec\n');
    expect(result.code).toBe(0);
  });

  it('burrow exec -- git ls-remote ssh:// through squid', async () => {
    const repo = join(dir, 'repo.git');
    expect(spawnSync('git', ['init', '-q', '--bare', repo]).status).toBe(0);
    const sshCommand = ['ssh', ...sshBaseOptions(sshd)].join(' ');
    const result = await run(BURROW, ['exec', '--', 'git', 'ls-remote', `ssh://${sshd.user}@${TARGET_NAME}:${sshd.port}${repo}`], {
      env: cleanEnv({ HTTPS_PROXY: squidAuthUrl, GIT_SSH_COMMAND: sshCommand, HOME: dir, GIT_CONFIG_NOSYSTEM: '1' }),
      timeoutMs: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0); // an empty repository: no refs, success
    expect(squid.accessLog()).toContain(`${TARGET_NAME}:${sshd.port}`);
  });

  it('a burrow ssh-config block works with plain ssh -F FILE through squid', async () => {
    const block = await run(BURROW, ['ssh-config', TARGET_NAME, '--no-multiplex'], { env: cleanEnv() });
    expect(block.code).toBe(0);
    const file = join(dir, 'ssh_config');
    const extra = [
      `Host ${TARGET_NAME}`,
      `    Port ${sshd.port}`,
      `    User ${sshd.user}`,
      `    IdentityFile ${sshd.keyPath}`,
      '    IdentitiesOnly yes',
      '    IdentityAgent none',
      '    StrictHostKeyChecking no',
      '    UserKnownHostsFile /dev/null',
      '    GlobalKnownHostsFile /dev/null',
      '    BatchMode yes',
      '    LogLevel ERROR',
    ].join('\n');
    writeFileSync(file, `${block.stdout}\n${extra}\n`);
    const written = await run(BURROW, ['ssh-config', TARGET_NAME, '--no-multiplex', '--write', '--file', join(dir, 'written_config')], { env: cleanEnv() });
    expect(written.code).toBe(0);
    const result = await run('ssh', ['-F', file, TARGET_NAME, 'echo hello via ssh-config'], { env: cleanEnv({ HTTPS_PROXY: squidAuthUrl }), timeoutMs: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('hello via ssh-config\n');
    expect(result.code).toBe(0);
  });

  describe.skipIf(!HAVE_GO)(title('burrow tsh with the Go stand-in', HAVE_GO ? undefined : 'go is not installed; apt-get install golang-go'), () => {
    let standin: string;
    let ca: HostCa;
    let ping: TeleportProxy;
    let sshAddress = '';
    beforeAll(async () => {
      standin = buildTshStandin();
      ca = makeCaFor([TELEPORT_NAME]);
      ping = await keep(startTeleportProxy(ca, { ping: () => ({ cluster_name: 'interop', server_version: '16.0.0', proxy: { tls_routing_enabled: false, ssh: { listen_addr: '0.0.0.0:3023', ssh_public_addr: sshAddress } } }) }));
    }, 240_000);
    const tsh = (env: Record<string, string>) =>
      run(BURROW, ['tsh', '--tsh', standin, '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], {
        env: cleanEnv({ SSL_CERT_FILE: ca.caFile, XDG_CACHE_HOME: makeTempDir('wrap-cache'), ...env }),
        timeoutMs: 60_000,
      });

    it('squid with Basic auth: HTTPS_PROXY passed to tsh as is; the stand-in reaches sshd\'s banner', async () => {
      sshAddress = `${TARGET_NAME}:${sshd.port}`;
      const result = await tsh({ HTTPS_PROXY: squidAuthUrl });
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain(`env HTTPS_PROXY=${squidAuthUrl}`);
      expect(result.stdout).toMatch(/^banner SSH-2\.0-OpenSSH/m);
      expect(result.code).toBe(0);
    });

    it('a squid -> dante chain: through the bridge, no upstream credential in tsh\'s environment', async () => {
      const [plainSquid, dante] = await Promise.all([keep(startSquid({ hosts })), keep(startDante({ hosts }))]);
      sshAddress = `${TARGET_NAME}:${sshd.port}`;
      const result = await tsh({ BURROW_PROXY: `${plainSquid.url},socks5h://127.0.0.1:${dante.port}` });
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^env HTTPS_PROXY=http:\/\/burrow:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+$/m);
      expect(result.stdout).toMatch(/^banner SSH-2\.0-OpenSSH/m);
      expect(result.code).toBe(0);
      expect(plainSquid.accessLog()).toContain(`127.0.0.1:${dante.port}`);
    });

    it.skipIf(!LOOPBACK_NAME)(
      title('a squid that allows only the web port while direct SSH works: NO_PROXY added', LOOPBACK_NAME ? undefined : '/etc/hosts names no loopback address but localhost'),
      async () => {
        const { name, address } = LOOPBACK_NAME!;
        const only = await keep(startSquid({ connectPorts: [ping.port], hosts }));
        // The real sshd listens on 127.0.0.1; a name for another loopback address gets a banner server there.
        const target: Peer | NodePeer = address === '127.0.0.1' ? sshd : await keep(startBannerOn(address, 'SSH-2.0-OpenSSH_stand-in\r\n'));
        sshAddress = `${name}:${target.port}`;
        const result = await tsh({ HTTPS_PROXY: only.url });
        expect(result.stderr).toContain(`added ${name}:${target.port} to tsh's NO_PROXY`);
        expect(result.stdout).toContain(`env NO_PROXY=${name}:${target.port}\n`);
        expect(result.stdout).toContain(`ssh ${name}:${target.port} via direct`);
        expect(result.stdout).toMatch(/^banner SSH-2\.0-OpenSSH/m);
        expect(result.code).toBe(0);
      },
    );
  });
});
