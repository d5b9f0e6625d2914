import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from '../../peers/env.ts';

// One definition of the clean test environment, shared with the real peers and the benchmarks.
export { cleanEnv };

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

export function runBurrow(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runProgram(BURROW, args, options);
}

/** Runs any program the way runBurrow runs burrow (without blocking the event loop the test's peers run on). */
export function runProgram(program: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
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
