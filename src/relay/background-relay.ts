import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Log } from '../log.ts';
import { sendHandle } from './send-fd.ts';
import { socketPair } from './socket-pair.ts';

// `connect --fdpass` for a route whose tunnel cannot be handed to ssh as a bare socket (a TLS hop: the session keys
// live in the process that made the handshake). ssh waits for its ProxyCommand to exit, so that process cannot stay
// to relay. Instead it makes a socket pair, starts a second burrow that opens the tunnel and relays it over one end
// (as `burrow connect` does over stdin/stdout), and once that tunnel is open passes the other end to ssh and exits.
// The second process is not ssh's child: ssh does not wait for it, and it ends when ssh closes its end.
//
// The arguments (which may carry a proxy password) travel over a pipe, never on the child's command line; the
// child's stderr is ssh's stderr, so a refusal reads exactly as it does without --fdpass, and its exit code becomes ours.

/**
 * Runs the relay in a child process (this program with `childCommand`, which reads its arguments from fd 3 with
 * relayArguments) and hands the child's socket to ssh; resolves with the exit code for this process.
 */
export async function relayInBackground(childCommand: string[], argv: string[], log: Log): Promise<number> {
  const { tmpdir } = await import('node:os');
  const [ours, theirs] = await socketPair(tmpdir());
  const child = spawn(process.execPath, [process.argv[1]!, ...childCommand], {
    stdio: [theirs, theirs, 'inherit', 'pipe'],
    env: process.env,
  });
  theirs.destroy();
  const control = child.stdio[3] as Socket;
  control.write(`${JSON.stringify(argv)}\n`);
  const outcome = await new Promise<{ open: true } | { open: false; code: number }>((resolve) => {
    let answer = '';
    control.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\n')) resolve({ open: true });
    });
    control.on('error', () => {});
    child.once('error', (error) => {
      log.error(`cannot start the relaying burrow process: ${error.message}`);
      resolve({ open: false, code: 1 });
    });
    child.once('exit', (code) => resolve({ open: false, code: code ?? 1 }));
  });
  if (!outcome.open) {
    ours.destroy();
    return outcome.code;
  }
  control.destroy();
  child.unref();
  await sendHandle(1, (ours as unknown as { _handle: unknown })._handle);
  log.debug('relaying from a background process; its socket handed to ssh (ProxyUseFdpass)', { pid: child.pid });
  ours.destroy();
  return 0;
}

/**
 * In the relaying child: the arguments the parent sent on fd 3, and a function that tells the parent the tunnel is
 * open (after which the parent passes our socket to ssh and exits).
 */
export async function relayArguments(): Promise<{ argv: string[]; announceOpen: () => void }> {
  const { Socket: NetSocket } = await import('node:net');
  const control = new NetSocket({ fd: 3, readable: true, writable: true });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    control.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end >= 0) {
        control.pause();
        resolve(text.slice(0, end));
      }
    });
    control.once('end', () => reject(new Error('the parent burrow closed the control pipe before sending arguments')));
    control.once('error', reject);
  });
  const argv = JSON.parse(line) as unknown;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error('bad arguments on the control pipe');
  return {
    argv,
    announceOpen: () => {
      control.end('open\n');
      control.on('error', () => {});
    },
  };
}
