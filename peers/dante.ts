// dante (danted) on 127.0.0.1: SOCKS5 without auth or with RFC 1929 username auth against a real system user.
//
// Facts this depends on (Debian 12, see also shared/REFERENCE.md §3): danted forks children and stays in the
// foreground without -D; `socksmethod: username` checks the system password database (shadow, via crypt), so it
// needs `user.privileged: root` and a real system user (.ci/install-peers.sh creates it). It has no hosts file option:
// for a name only the proxy can resolve we run it under `unshare --mount` with /etc/hosts bind-mounted from the temp
// dir (private mount namespace: the rest of the machine does not see it). dante keeps the other direction of a
// tunnel open after a client half-close.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, requireBinary } from './binaries.ts';
import { hostsFileText, makeTempDir, startDaemon, withFreePort, type Peer } from './daemon.ts';
import { LOOPBACK } from './net.ts';

/** The system user that .ci/install-peers.sh creates for dante's `socksmethod: username`. */
export const DANTE_USER = 'burrowtest';
export const DANTE_PASSWORD = 'd@nte p4ss:1';

/** Whether the system user for dante's username auth exists (.ci/install-peers.sh creates it). */
export function danteUserExists(): boolean {
  return spawnSync('id', ['-u', DANTE_USER], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// dante

export interface DanteOptions {
  /** `username`: RFC 1929 user/password checked against the system users (DANTE_USER / DANTE_PASSWORD). */
  auth?: 'none' | 'username';
  /**
   * Names dante resolves itself. danted has no hosts-file option, so it then runs in a private mount namespace
   * (`unshare --mount`) with /etc/hosts bind-mounted from the temp dir; the machine's /etc/hosts is not touched.
   */
  hosts?: Record<string, string>;
  readyTimeoutMs?: number;
}

export async function startDante(options: DanteOptions = {}): Promise<Peer> {
  const danted = requireBinary('danted');
  if (!isRoot()) throw new Error('real-peers: danted needs root here (user.privileged: root)');
  if (options.auth === 'username' && !danteUserExists()) {
    throw new Error(`real-peers: dante username auth needs the system user ${DANTE_USER}; run .ci/install-peers.sh`);
  }
  const unshare = options.hosts ? requireBinary('unshare') : undefined;

  return await withFreePort(async (port) => {
    const dir = makeTempDir('dante');
    const logPath = join(dir, 'danted.log');
    const method = options.auth === 'username' ? 'username' : 'none';
    const conf = join(dir, 'danted.conf');
    writeFileSync(
      conf,
      [
        `logoutput: ${logPath}`,
        `internal: ${LOOPBACK} port = ${port}`,
        `external: ${LOOPBACK}`,
        'clientmethod: none',
        `socksmethod: ${method}`,
        'user.privileged: root',
        'user.unprivileged: nobody',
        'timeout.negotiate: 10',
        // No idle timeout on an established tunnel (dante's default io timeout is 0 = none for TCP).
        'client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: error\n}',
        'socks pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  command: connect\n  log: error connect disconnect\n}',
        'socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n  log: connect error\n}',
        '',
      ].join('\n'),
    );
    const pidFile = join(dir, 'danted.pid');
    let argv = [danted, '-f', conf, '-p', pidFile];
    if (options.hosts && unshare) {
      const hostsPath = join(dir, 'hosts');
      let base = '';
      try {
        base = readFileSync('/etc/hosts', 'utf8');
      } catch {
        base = '127.0.0.1\tlocalhost\n';
      }
      writeFileSync(hostsPath, `${base.endsWith('\n') || base === '' ? base : `${base}\n`}${hostsFileText(options.hosts)}`);
      // unshare execs sh, which execs danted: the pid we hold is danted's.
      argv = [unshare, '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsPath, ...argv];
    }
    return await startDaemon({
      name: 'danted',
      argv,
      dir,
      port,
      logPath,
      url: `socks5h://${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
  });
}
