// tinyproxy on 127.0.0.1. As root it needs `User`/`Group` and writes its log as that user; without ConnectPort it
// allows CONNECT to any port; `-d` keeps it in the foreground. It closes the whole tunnel on a client half-close.
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, requireBinary } from './binaries.ts';
import { lookupIds, makeTempDir, startDaemon, withFreePort, type Peer } from './daemon.ts';
import { LOOPBACK } from './net.ts';

// ---------------------------------------------------------------------------------------------------------------
// tinyproxy

export interface TinyproxyOptions {
  /** Allow CONNECT only to these ports. Default: any port. */
  connectPorts?: number[];
  readyTimeoutMs?: number;
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Peer> {
  const tinyproxy = requireBinary('tinyproxy');
  const root = isRoot();
  return await withFreePort(async (port) => {
    const dir = makeTempDir('tinyproxy');
    const logPath = join(dir, 'tinyproxy.log');
    const lines = [
      `Port ${port}`,
      `Listen ${LOOPBACK}`,
      'Timeout 600',
      `LogFile "${logPath}"`,
      'LogLevel Info',
      `PidFile "${join(dir, 'tinyproxy.pid')}"`,
      'MaxClients 50',
      `Allow ${LOOPBACK}`,
      'DisableViaHeader Yes',
      ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
    ];
    if (root) {
      // tinyproxy refuses to keep root; it writes its log as this user.
      const { uid, gid } = lookupIds('nobody', 'nogroup');
      lines.unshift('User nobody', 'Group nogroup');
      chownSync(dir, uid, gid);
    }
    const conf = join(dir, 'tinyproxy.conf');
    writeFileSync(conf, `${lines.join('\n')}\n`);
    return await startDaemon({
      name: 'tinyproxy',
      argv: [tinyproxy, '-d', '-c', conf],
      dir,
      port,
      logPath,
      url: `http://${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
  });
}
