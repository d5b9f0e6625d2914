// `burrow …` with real pipe(2)s as stdin and stdout, through test/helpers/pipe-harness.py: the way OpenSSH runs a
// ProxyCommand. Node's spawn gives socketpairs, on which an end of stream shows even while a copy of the fd stays
// open; the hang of issue #12 showed only with pipes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BURROW, cleanEnv } from './run-burrow.ts';

const HARNESS = fileURLToPath(new URL('./pipe-harness.py', import.meta.url));

export type PipeEvent =
  | { ev: 'started'; pid: number; t: number }
  | { ev: 'out'; total: number; text: string; t: number }
  | { ev: 'eof'; t: number }
  | { ev: 'exit'; code: number | null; signal: string | null; stderr: string; t: number };

export interface PipedBurrow {
  events: PipeEvent[];
  /** Sends one harness command: `write TEXT`, `write-bytes N`, `close-stdin`, `close-stdout`, `signal HUP`. */
  send(command: string): void;
  /** Resolves with the first event (seen or to come) that matches; rejects after `timeoutMs`, naming what it waited for. */
  waitFor<E extends PipeEvent>(what: string, match: (event: PipeEvent) => event is E, timeoutMs?: number): Promise<E>;
  /** The exit event (the harness reports it once burrow exited and its stdout is drained). */
  exited(timeoutMs?: number): Promise<Extract<PipeEvent, { ev: 'exit' }>>;
  /** Kills burrow (if still running) and the harness: the safety net after each test (trackPeers). */
  close(): Promise<void>;
}

export const isOut = (e: PipeEvent): e is Extract<PipeEvent, { ev: 'out' }> => e.ev === 'out';
export const isEof = (e: PipeEvent): e is Extract<PipeEvent, { ev: 'eof' }> => e.ev === 'eof';
export const isExit = (e: PipeEvent): e is Extract<PipeEvent, { ev: 'exit' }> => e.ev === 'exit';

/**
 * How long a case that should end in a blink gets before it counts as hung. A bound, not a speed check: on a loaded
 * 2-core machine (the full suite in parallel, other runs beside it) a burrow start and a handshake took over 2 s, so
 * 5 s was too close. A case that must be faster than some timeout of burrow's sets that timeout well above this.
 */
export const NO_HANG_MS = 20_000;

export function runPiped(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): PipedBurrow {
  const harness = spawn('python3', [HARNESS, BURROW, ...args], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const events: PipeEvent[] = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  let burrowPid: number | undefined;
  harness.stdout!.setEncoding('utf8');
  harness.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const event = JSON.parse(buffer.slice(0, newline)) as PipeEvent;
      buffer = buffer.slice(newline + 1);
      if (event.ev === 'started') burrowPid = event.pid;
      events.push(event);
      for (const wake of waiters.splice(0)) wake();
    }
  });
  harness.stdin!.on('error', () => {});
  const closed = new Promise<void>((resolve) => harness.once('close', () => resolve()));
  closed.then(() => {
    for (const wake of waiters.splice(0)) wake();
  });
  let harnessDone = false;
  closed.then(() => (harnessDone = true));

  // Failure messages show what happened without every chunk of a download.
  const summary = (): string => JSON.stringify([...events.filter((e) => e.ev !== 'out'), ...events.filter(isOut).slice(-1)]);
  const waitFor = <E extends PipeEvent>(what: string, match: (event: PipeEvent) => event is E, timeoutMs = 10_000): Promise<E> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms; events: ${summary()}`)), timeoutMs);
      const check = () => {
        const found = events.find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else if (harnessDone) {
          clearTimeout(timer);
          reject(new Error(`the harness ended without ${what}; events: ${summary()}`));
        } else {
          waiters.push(check);
        }
      };
      check();
    });

  return {
    events,
    send: (command) => harness.stdin!.write(`${command}\n`),
    waitFor,
    exited: (timeoutMs) => waitFor('exit', isExit, timeoutMs),
    close: async () => {
      if (burrowPid !== undefined && !events.some(isExit)) {
        try {
          process.kill(burrowPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      harness.kill('SIGKILL');
      await closed;
    },
  };
}
