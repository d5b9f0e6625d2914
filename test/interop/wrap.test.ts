// burrow exec and burrow ssh-config against real daemons (test/helpers/real-peers.ts): OpenSSH's ssh and git over
// ssh through squid with Basic auth; a `burrow ssh-config` block used by plain `ssh -F FILE`. burrow tsh has its own
// file (tsh.test.ts).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BURROW } from '../helpers/run-burrow.ts';
import {
  SQUID_PASSWORD,
  SQUID_USER,
  cleanEnv,
  makeTempDir,
  run,
  sshBaseOptions,
  startSquid,
  startSshd,
  whyCannotRun,
  withCredentials,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';

const TARGET_NAME = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'sshd', 'ssh', 'ssh-keygen', 'git');
const title = (name: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : name);

describe.skipIf(skipReason)(title('burrow exec / ssh-config with squid and sshd'), () => {
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
  const hosts = { [TARGET_NAME]: '127.0.0.1' };

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
});
