// microsocks on 127.0.0.1: a minimal SOCKS5 server, optionally with a user and password (taken from argv).
import { requireBinary } from './binaries.ts';
import { makeTempDir, startDaemon, withFreePort, type Peer } from './daemon.ts';
import { LOOPBACK } from './net.ts';

/** microsocks' -u/-P credentials (it takes them from argv, so nothing with a space). */
export const MICROSOCKS_USER = 'msuser';
export const MICROSOCKS_PASSWORD = 'm!cro:s@cks';

// ---------------------------------------------------------------------------------------------------------------
// microsocks

export interface MicrosocksOptions {
  /** Require user/password (MICROSOCKS_USER / MICROSOCKS_PASSWORD when `true`). */
  auth?: boolean | { user: string; password: string };
  readyTimeoutMs?: number;
}

export async function startMicrosocks(options: MicrosocksOptions = {}): Promise<Peer> {
  const microsocks = requireBinary('microsocks');
  const creds = options.auth === true ? { user: MICROSOCKS_USER, password: MICROSOCKS_PASSWORD } : options.auth || undefined;
  return await withFreePort(async (port) => {
    const dir = makeTempDir('microsocks');
    const argv = [microsocks, '-i', LOOPBACK, '-p', String(port)];
    if (creds) argv.push('-u', creds.user, '-P', creds.password);
    return await startDaemon({
      name: 'microsocks',
      argv,
      dir,
      port,
      url: `socks5h://${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
  });
}
