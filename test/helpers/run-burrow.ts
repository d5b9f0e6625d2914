import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; leave undefined to keep stdin open until `keepOpen` ends. */
  input?: Buffer | string;
  /** Called with the child once spawned: for tests that write gradually or send signals. */
  onSpawn?: (child: ChildProcess) => void;
  /** A safety net so a hung burrow fails the test instead of the run. */
  killAfterMs?: number;
}

/**
 * The test process's environment without proxy variables, burrow's own variables or an ssh agent, so that the
 * developer's settings never leak into a test; `extra` adds variables (undefined removes one).
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/_proxy$/i.test(key) || /^BURROW_/i.test(key) || key === 'SSH_AUTH_SOCK' || key === 'SSH_AGENT_PID') continue;
    env[key] = value;
  }
  // The developer's own ~/.config/burrow/config.yaml must not steer a test either: point at a directory that is not there.
  env.XDG_CONFIG_HOME = join(tmpdir(), 'burrow-tests-no-config');
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runBurrow(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BURROW, args, { env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin!.on('error', () => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr });
    });
    options.onSpawn?.(child);
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}
