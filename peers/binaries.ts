// Which daemons and tools are installed, and whether this run may start them (root): the skip reasons tests print.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of an executable on PATH (or in the sbin dirs, which a non-login PATH may lack), or undefined. */
export function findBinary(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function haveBinary(name: string): boolean {
  return findBinary(name) !== undefined;
}

/** The names among `names` that are not installed (for `describe.skipIf(missing.length > 0)` with a visible reason). */
export function missingBinaries(...names: string[]): string[] {
  return names.filter((name) => !haveBinary(name));
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}


export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}


/**
 * Why the interop suite (or a part of it) cannot run here, or undefined when it can. Tests print this as the skip
 * reason; in CI everything is installed and nothing should skip.
 */
export function whyCannotRun(...binaries: string[]): string | undefined {
  if (!isRoot()) return 'the interop suite needs root (squid/danted/tinyproxy drop privileges, sshd logs in as root)';
  const missing = missingBinaries(...binaries);
  if (missing.length > 0) return `not installed: ${missing.join(', ')} (run .ci/install-peers.sh)`;
  return undefined;
}

export function requireBinary(name: string): string {
  const path = findBinary(name);
  if (!path) throw new Error(`real-peers: ${name} is not installed (run .ci/install-peers.sh)`);
  return path;
}
