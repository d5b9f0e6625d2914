import { createHash, createHmac, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, constants } from 'node:fs';
import { homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';

// burrow's per-user memory between runs: a ProxyCommand has no long-lived process, so what one run learns (a dead
// proxy, a rejected password, a PAC answer, what a proxy demanded of tsh) is kept in small JSON files under
// $XDG_CACHE_HOME/burrow (default ~/.cache/burrow), directory 0700, files 0600, written atomically (temp + rename).
// A file that is corrupt, of another format version, a symlink or owned by someone else is ignored (and replaced on
// the next write): a cache can only ever cost time, never decide wrongly or fail a run.

type Env = Readonly<Record<string, string | undefined>>;

const FORMAT = 1;

export interface StoreOptions {
  /** How long an entry is believed. */
  ttlMs: number;
  /** The newest entries kept; older ones are dropped on write. */
  maxEntries?: number;
  /** Forget entries written while the machine had other interface addresses (a laptop that moved). */
  forgetOnNetworkChange?: boolean;
}

export interface Remembered<T> {
  value: T;
  /** When it was written (ms since the epoch). */
  at: number;
}

export interface Store<T> {
  readonly file: string;
  get(key: string, now?: number): Remembered<T> | undefined;
  set(key: string, value: T, now?: number): void;
  delete(key: string): void;
}

interface Entry {
  at: number;
  net?: string;
  value: unknown;
}

interface FileShape {
  format: number;
  entries: Record<string, Entry>;
}

export function stateDir(env: Env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'burrow');
}

/** A named store (`<stateDir>/<name>.json`). Reads the file on each call: runs are short and files are tiny. */
export function openStore<T>(env: Env, name: string, options: StoreOptions): Store<T> {
  const dir = stateDir(env);
  const file = join(dir, `${name}.json`);
  const maxEntries = options.maxEntries ?? 100;
  const fresh = (entry: Entry, now: number): boolean =>
    typeof entry.at === 'number' &&
    now >= entry.at &&
    now - entry.at <= options.ttlMs &&
    (!options.forgetOnNetworkChange || entry.net === networkFingerprint());
  return {
    file,
    get(key, now = Date.now()) {
      const entry = readEntries(file)[key];
      if (!entry || !fresh(entry, now)) return undefined;
      return { value: entry.value as T, at: entry.at };
    },
    set(key, value, now = Date.now()) {
      const entries = readEntries(file);
      entries[key] = { at: now, value, ...(options.forgetOnNetworkChange ? { net: networkFingerprint() } : {}) };
      writeEntries(dir, file, keepNewest(entries, (entry) => fresh(entry, now), maxEntries));
    },
    delete(key) {
      const entries = readEntries(file);
      if (!(key in entries)) return;
      delete entries[key];
      writeEntries(dir, file, entries);
    },
  };
}

function keepNewest(entries: Record<string, Entry>, keep: (entry: Entry) => boolean, max: number): Record<string, Entry> {
  return Object.fromEntries(
    Object.entries(entries)
      .filter(([, entry]) => keep(entry))
      .sort(([, a], [, b]) => b.at - a.at)
      .slice(0, max),
  );
}

function readEntries(file: string): Record<string, Entry> {
  let fd: number | undefined;
  try {
    // O_NOFOLLOW: a symlink planted in the cache directory is not followed; fstat: nor is a file of another user's.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const stat = fstatSync(fd);
    if (!stat.isFile() || (typeof process.getuid === 'function' && stat.uid !== process.getuid())) return {};
    const parsed = JSON.parse(readFileSync(fd, 'utf8')) as Partial<FileShape> | null;
    if (!parsed || parsed.format !== FORMAT || typeof parsed.entries !== 'object' || parsed.entries === null) return {};
    return parsed.entries;
  } catch {
    return {};
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeEntries(dir: string, file: string, entries: Record<string, Entry>): void {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const shape: FileShape = { format: FORMAT, entries };
    writeFileSync(temp, `${JSON.stringify(shape)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch {
    rmSync(temp, { force: true });
    // a memory that cannot be written only costs time
  }
}

/** "16:42", local time: when something was remembered, as messages say it ("remembered as failed at 16:42"). */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

let fingerprint: string | undefined;

/**
 * The machine's non-loopback interface addresses, hashed: what `myIpAddress()` in a PAC and "which network am I on"
 * depend on. Computed once per process (a few hundred microseconds).
 */
export function networkFingerprint(): string {
  if (fingerprint === undefined) {
    const addresses: string[] = [];
    for (const [name, list] of Object.entries(networkInterfaces())) {
      for (const info of list ?? []) if (!info.internal) addresses.push(`${name}/${info.address}`);
    }
    fingerprint = createHash('sha256').update(addresses.sort().join(',')).digest('hex').slice(0, 16);
  }
  return fingerprint;
}

/** For tests that simulate a change of network within one process. */
export function forgetNetworkFingerprint(): void {
  fingerprint = undefined;
}

/**
 * A keyed hash of secret material (e.g. proxy + user + password, to remember "this password was rejected" without
 * keeping anything that could be checked offline against a guess): HMAC-SHA-256 under a random per-user key kept in
 * the state directory (0600). Without the key file nothing is remembered that could identify a password.
 */
export function keyedDigest(env: Env, ...parts: string[]): string {
  const key = stateKey(env);
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(`${part.length}:${part}`);
  return hmac.digest('hex').slice(0, 32);
}

function stateKey(env: Env): Buffer {
  const dir = stateDir(env);
  const file = join(dir, 'key');
  try {
    const stat = lstatSync(file);
    if (stat.isFile() && stat.size === 32 && (typeof process.getuid !== 'function' || stat.uid === process.getuid())) return readFileSync(file);
  } catch {
    // made below
  }
  const key = randomBytes(32);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(temp, key, { mode: 0o600 });
    renameSync(temp, file);
    // Two first runs at once: both wrote, the last rename won; use the key that stays.
    const kept = readFileSync(file);
    if (kept.length === 32) return kept;
  } catch {
    rmSync(temp, { force: true });
  }
  return key;
}
