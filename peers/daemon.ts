// Starting one real daemon, bounded: its own temp dir, its output in DIR/NAME.out, the port polled until it accepts,
// the log tail in the error when it exits early or the deadline passes. A free port is taken by binding port 0 and
// closing it; if the daemon then loses the race for it ("Address already in use"), the start is retried with another
// port. Every daemon started here is killed when this process exits, so a crashed test leaves no daemon behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort, LOOPBACK } from './net.ts';

export interface Peer {
  host: string;
  port: number;
  /** How a client names this peer: `http://127.0.0.1:PORT`, `socks5h://127.0.0.1:PORT`, `ssh://…`. No credentials. */
  url: string;
  /** The daemon's main log (the first place to look when something fails). */
  logPath: string;
  /** The per-peer temp dir: config, pid file, logs. Removed by stop() unless BURROW_KEEP_PEER_DIRS=1. */
  dir: string;
  pid: number;
  /** The main log's last lines (and the daemon's captured stdout/stderr). */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `burrow-${prefix}-`));
}

function keepDirs(): boolean {
  return process.env.BURROW_KEEP_PEER_DIRS === '1';
}

export function lookupIds(user: string, group: string): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('getent', ['group', group], { encoding: 'utf8' });
  if (uid.status !== 0) throw new Error(`real-peers: system user ${user} does not exist`);
  const gidField = gid.status === 0 ? gid.stdout.split(':')[2] : undefined;
  return { uid: Number(uid.stdout.trim()), gid: gidField ? Number(gidField) : Number(uid.stdout.trim()) };
}

/** Every daemon this process started, killed on exit so a crashed test leaves no daemon behind. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface DaemonSpec {
  name: string;
  /** argv[0] is the program. */
  argv: string[];
  dir: string;
  port: number;
  /** The daemon's own log file (if it writes one); its stdout/stderr always go to DIR/NAME.out. */
  logPath?: string;
  url: string;
  readyTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

class StartError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
  }
}

export async function startDaemon(spec: DaemonSpec): Promise<Peer> {
  const outPath = join(spec.dir, `${spec.name}.out`);
  const outFd = openSync(outPath, 'a');
  const [program, ...args] = spec.argv;
  let child: ChildProcess;
  try {
    child = spawn(program!, args, { cwd: spec.dir, stdio: ['ignore', outFd, outFd], env: spec.env ?? process.env });
  } finally {
    closeSync(outFd);
  }
  track(child);
  const logPath = spec.logPath ?? outPath;

  const logTail = (lines = 40): string => {
    const parts: string[] = [];
    if (spec.logPath) {
      const main = tailFile(spec.logPath, lines);
      if (main) parts.push(`--- ${spec.logPath}\n${main}`);
    }
    const out = tailFile(outPath, lines);
    if (out) parts.push(`--- ${outPath}\n${out}`);
    return parts.join('\n') || '(no log output)';
  };

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      spawnError = error;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(timer);
    }
    if (!keepDirs()) rmSync(spec.dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + spec.readyTimeoutMs;
  for (;;) {
    if (exited) {
      const tail = logTail();
      await stop();
      const how = spawnError ? `could not be started (${spawnError.message})` : `exited (code ${exited.code}, signal ${exited.signal})`;
      throw new StartError(
        `real-peers: ${spec.name} ${how} before accepting connections on ${LOOPBACK}:${spec.port}\n` +
          `command: ${spec.argv.join(' ')}\n${tail}`,
        /address already in use|EADDRINUSE|could not bind|bind\(\) failed|Cannot bind/i.test(tail),
      );
    }
    if (await canConnect(LOOPBACK, spec.port, 500)) break;
    if (Date.now() > deadline) {
      const tail = logTail();
      await stop();
      throw new StartError(
        `real-peers: ${spec.name} did not accept connections on ${LOOPBACK}:${spec.port} within ${spec.readyTimeoutMs} ms\n` +
          `command: ${spec.argv.join(' ')}\n${tail}`,
        false,
      );
    }
    await delay(100);
  }

  return { host: LOOPBACK, port: spec.port, url: spec.url, logPath, dir: spec.dir, pid: child.pid ?? -1, logTail, stop };
}

/** Runs `attempt(port)` with a fresh free port, again (up to 3 times) when the daemon lost the port to someone else. */
export async function withFreePort<T>(attempt: (port: number) => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const port = await freePort();
    try {
      return await attempt(port);
    } catch (error) {
      if (i < 2 && error instanceof StartError && error.addressInUse) continue;
      throw error;
    }
  }
}

export function hostsFileText(hosts: Record<string, string>): string {
  return Object.entries(hosts)
    .map(([name, ip]) => `${ip}\t${name}\n`)
    .join('');
}
