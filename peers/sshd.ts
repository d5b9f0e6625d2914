// OpenSSH's sshd on 127.0.0.1 with a fresh host key and a fresh client key, logging in the user running the tests.
// sshd needs an absolute path (re-exec), /run/sshd, `UsePAM no` and `StrictModes no` for keys in /tmp, and
// `Subsystem sftp` because OpenSSH 9's scp speaks SFTP.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { isRoot, requireBinary } from './binaries.ts';
import { makeTempDir, startDaemon, withFreePort, type Peer } from './daemon.ts';
import { LOOPBACK } from './net.ts';

export interface SshdPeer extends Peer {
  /** The login user (the user running the tests; root in CI). */
  user: string;
  /** The client's private key, authorised by this sshd. */
  keyPath: string;
  /** The server's host public key line (`ssh-ed25519 AAAA…`). */
  hostPublicKey: string;
}

export async function startSshd(options: { readyTimeoutMs?: number } = {}): Promise<SshdPeer> {
  const sshd = requireBinary('sshd');
  const keygen = requireBinary('ssh-keygen');
  // Privilege separation dir, normally made by the systemd unit.
  if (isRoot() && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = userInfo().username;

  return await withFreePort(async (port) => {
    const dir = makeTempDir('sshd');
    const hostKey = join(dir, 'ssh_host_ed25519_key');
    const keyPath = join(dir, 'client_ed25519');
    for (const [file, comment] of [
      [hostKey, 'burrow-test-host'],
      [keyPath, 'burrow-test-client'],
    ] as const) {
      const made = spawnSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`real-peers: ssh-keygen failed: ${made.stderr}`);
    }
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${keyPath}.pub`));
    const conf = join(dir, 'sshd_config');
    writeFileSync(
      conf,
      [
        `Port ${port}`,
        `ListenAddress ${LOOPBACK}`,
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'PrintLastLog no',
        'UseDNS no',
        'MaxStartups 50:30:100',
        'Subsystem sftp /usr/lib/openssh/sftp-server',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const peer = await startDaemon({
      name: 'sshd',
      argv: [sshd, '-D', '-e', '-f', conf],
      dir,
      port,
      url: `ssh://${user}@${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
    return { ...peer, user, keyPath, hostPublicKey: readFileSync(`${hostKey}.pub`, 'utf8').trim() };
  });
}
