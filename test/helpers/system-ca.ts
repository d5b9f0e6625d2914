// Installs a test CA into the machine's trust store (Debian: /usr/local/share/ca-certificates +
// update-ca-certificates) for the length of a test file, and removes it after (also on exit, if the run dies).
// It changes the machine, so it only runs as root AND with BURROW_TEST_SYSTEM_CA=1 (which .ci/run sets): a
// developer's machine is never modified by a plain `npm test`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { findBinary, isRoot } from './real-peers.ts';

const DIR = '/usr/local/share/ca-certificates';

export function whyNoSystemCa(): string | undefined {
  if (process.env.BURROW_TEST_SYSTEM_CA !== '1') return 'set BURROW_TEST_SYSTEM_CA=1 (and run as root) to let the test install a CA into the system store';
  if (!isRoot()) return 'installing a CA into the system store needs root';
  if (!findBinary('update-ca-certificates') || !existsSync(DIR)) return 'no update-ca-certificates (Debian\'s ca-certificates package)';
  return undefined;
}

export interface InstalledCa {
  remove(): void;
}

export function installSystemCa(caFile: string, name: string): InstalledCa {
  const installed = `${DIR}/${name}.crt`;
  // --fresh on removal: a plain run leaves the removed certificate's links in /etc/ssl/certs dangling.
  const update = (...args: string[]) => {
    const result = spawnSync(findBinary('update-ca-certificates')!, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`update-ca-certificates failed: ${result.stderr}`);
  };
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    rmSync(installed, { force: true });
    update('--fresh');
  };
  process.once('exit', remove);
  copyFileSync(caFile, installed);
  update();
  return {
    remove() {
      process.off('exit', remove);
      remove();
    },
  };
}
