import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// A short per-user cache of `burrow tsh`'s SSH-port check, so that `tsh ssh` in a loop does not pay a ping and two
// dials each time. $XDG_CACHE_HOME/burrow/tsh-probe.json (default ~/.cache), mode 0600; keys name the Teleport
// address and the proxies without credentials; entries live CACHE_TTL_MS.

export const CACHE_TTL_MS = 5 * 60 * 1000;
const MAX_ENTRIES = 50;

export interface ProbeVerdict {
  /** ok: tsh's SSH port works as routed (or TLS routing); direct: add noProxyEntry; neither: explanation. */
  verdict: 'ok' | 'direct' | 'neither' | 'unknown';
  tlsRouting?: boolean;
  sshAddress?: string;
  noProxyEntry?: string;
  message?: string;
}

interface Entry extends ProbeVerdict {
  at: number;
}

export function cacheFile(env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'burrow', 'tsh-probe.json');
}

function readAll(file: string): Record<string, Entry> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, Entry>) : {};
  } catch {
    return {};
  }
}

export function readCached(file: string, key: string, now = Date.now()): ProbeVerdict | undefined {
  const entry = readAll(file)[key];
  if (!entry || typeof entry.at !== 'number' || now - entry.at > CACHE_TTL_MS || now < entry.at) return undefined;
  const { at: _at, ...verdict } = entry;
  return verdict;
}

export function writeCached(file: string, key: string, verdict: ProbeVerdict, now = Date.now()): void {
  try {
    const all = readAll(file);
    all[key] = { ...verdict, at: now };
    const fresh = Object.entries(all)
      .filter(([, e]) => typeof e.at === 'number' && now - e.at <= CACHE_TTL_MS)
      .sort(([, a], [, b]) => b.at - a.at)
      .slice(0, MAX_ENTRIES);
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(Object.fromEntries(fresh))}\n`, { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    // a cache that cannot be written only costs time
  }
}
