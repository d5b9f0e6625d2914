// `burrow forward ... --print-port` as a child process for the integration and interop tests: waits (bounded) for
// one port per listener on stdout, keeps stderr for assertions, and stops with a signal, SIGKILL as the safety net.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { BURROW } from './run-burrow.ts';

export interface ForwardProcess {
  child: ChildProcess;
  /** One per listener, in the order -L..., -D..., --http... */
  ports: number[];
  stderr(): string;
  /**
   * Resolves when stderr matches (bounded, polled); returns the text. `from` (a length of stderr() taken before the
   * action) looks only at what came after it, so that an earlier test's line cannot satisfy a later test's wait.
   */
  waitForStderr(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited(): boolean;
  /** Waits for the process to exit on its own (SIGKILL after `timeoutMs`). */
  waitExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startForward(
  args: string[],
  options: { env: NodeJS.ProcessEnv; listeners: number; timeoutMs?: number; /** The burrow to run (default: node bin/burrow). */ burrow?: string[] },
): Promise<ForwardProcess> {
  const [program, ...words] = options.burrow ?? [process.execPath, BURROW];
  const child = spawn(program!, [...words, 'forward', '--print-port', ...args], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`burrow forward did not print ${options.listeners} port(s) in time; stderr:\n${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const lines = stdout.split('\n').filter((l) => /^\d+$/.test(l));
      if (lines.length >= options.listeners) {
        clearTimeout(timer);
        resolve(lines.slice(0, options.listeners).map(Number));
      }
    });
    void exitPromise.then((e) => {
      clearTimeout(timer);
      reject(new Error(`burrow forward exited (code ${e.code}, signal ${e.signal}) before listening; stderr:\n${stderr}`));
    });
  });
  return {
    child,
    ports,
    stderr: () => stderr,
    exited: () => exit !== undefined,
    waitExit: async (timeoutMs = 15_000) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exitPromise;
      clearTimeout(timer);
      return result;
    },
    waitForStderr: async (pattern, timeoutMs = 10_000, from = 0) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stderr.slice(from))) {
        if (Date.now() > deadline) throw new Error(`stderr did not match ${pattern} in time:\n${stderr.slice(from)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return stderr.slice(from);
    },
    stop: async (signal = 'SIGTERM', timeoutMs = 15_000) => {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exitPromise;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Connects to 127.0.0.1:port (bounded). */
export async function connectLocal(port: number, timeoutMs = 5000): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const timer = setTimeout(() => socket.destroy(new Error(`connect to ${port} timed out`)), timeoutMs);
  try {
    await once(socket, 'connect');
  } finally {
    clearTimeout(timer);
  }
  return socket;
}

/**
 * Writes `data` (then FIN unless keepOpen), and collects everything until the peer's FIN or close, bounded.
 * Resolves with the bytes and how it ended.
 */
export function exchange(socket: Socket, data: Buffer | string | undefined, options: { keepOpen?: boolean; timeoutMs?: number } = {}): Promise<{ data: Buffer; how: 'end' | 'close' | 'timeout' | 'error' }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (how: 'end' | 'close' | 'timeout' | 'error') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), how });
    };
    const timer = setTimeout(() => {
      finish('timeout');
      socket.destroy();
    }, options.timeoutMs ?? 10_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => finish('end'));
    socket.once('close', () => finish('close'));
    socket.once('error', () => finish('error'));
    socket.resume(); // a socket paused by readBytes() stays paused when a 'data' listener is added
    if (data !== undefined) socket.write(data);
    if (!options.keepOpen) socket.end();
  });
}

/** Reads exactly n bytes (bounded); fewer if the peer closes first. */
export function readBytes(socket: Socket, n: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', finish);
      socket.off('end', finish);
      socket.pause();
      const out = buffer.subarray(0, n);
      if (buffer.length > n) socket.unshift(buffer.subarray(n));
      resolve(out);
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length >= n) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', onData);
    socket.once('close', finish);
    socket.once('end', finish);
    socket.resume();
  });
}

/** Writes `text` and reads back as many bytes (bounded): proof that a tunnel to an echo server is up. */
export function echoOnce(socket: Socket, text: string, timeoutMs = 10_000): Promise<Buffer> {
  socket.write(text);
  return readBytes(socket, Buffer.byteLength(text), timeoutMs);
}
