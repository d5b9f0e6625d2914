// stunnel (Debian's stunnel4) as a real TLS terminator: an https:// proxy made of stunnel in front of a plain
// CONNECT proxy (squid), the way sites put TLS in front of a proxy that speaks only http://.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';
import { makeTempDir, startDaemon, withFreePort, type Peer } from './daemon.ts';
import { LOOPBACK } from './net.ts';

export interface StunnelOptions {
  /** Certificate and key (PEM) the listener presents. */
  cert: string;
  key: string;
  /** The plain proxy behind it. */
  backend: { host: string; port: number };
}

export async function startStunnel(options: StunnelOptions): Promise<Peer> {
  const stunnel = requireBinary('stunnel4');
  return await withFreePort(async (port) => {
    const dir = makeTempDir('stunnel');
    writeFileSync(join(dir, 'cert.pem'), `${options.cert.trim()}\n${options.key.trim()}\n`, { mode: 0o600 });
    const conf = join(dir, 'stunnel.conf');
    writeFileSync(
      conf,
      [
        'foreground = yes',
        `pid = ${join(dir, 'stunnel.pid')}`,
        `output = ${join(dir, 'stunnel.log')}`,
        'debug = notice',
        '[proxy]',
        `accept = ${LOOPBACK}:${port}`,
        `connect = ${options.backend.host}:${options.backend.port}`,
        `cert = ${join(dir, 'cert.pem')}`,
        '',
      ].join('\n'),
    );
    return await startDaemon({
      name: 'stunnel',
      argv: [stunnel, conf],
      dir,
      port,
      logPath: join(dir, 'stunnel.log'),
      url: `https://localhost:${port}`,
      readyTimeoutMs: 10_000,
    });
  });
}
