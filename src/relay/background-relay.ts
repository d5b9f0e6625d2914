import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Log } from '../log.ts';
import { sendHandle } from './send-fd.ts';
import { socketPair } from './socket-pair.ts';

// `connect --fdpass` for a tunnel that cannot be handed to ssh as a bare socket. ssh waits for its ProxyCommand to
// exit, so that process cannot stay to relay. Instead it makes a socket pair, starts a second burrow that relays
// the tunnel over one end (as `burrow connect` does over stdin/stdout), and once that relay is ready passes the
// other end to ssh and exits. The second process is not ssh's child: ssh does not wait for it, and it ends when ssh
// closes its end. Two cases:
// - a TLS hop (an https:// proxy): the session keys live in the process that made the handshake, so the child dials
//   the route itself (without --fdpass);
// - bytes were read past the proxy's answer (they are the target's, e.g. its SSH banner, and ssh must get them
//   first): the child inherits the open tunnel socket as fd 4 and gets those bytes over the control pipe; it writes
//   them to ssh before anything else the tunnel carries, so ssh sees every byte in order.
//
// The arguments (which may carry a proxy password) travel over the control pipe (fd 3), never on the child's
// command line; the child's stderr is ssh's stderr, so a refusal reads exactly as it does without --fdpass, and its
// exit code becomes ours.

/** The fd on which the child finds an inherited tunnel socket. */
const INHERITED_TUNNEL_FD = 4;

/** An open tunnel for the child to relay instead of dialing: the socket and the route, for its messages. */
export interface OpenTunnel {
  socket: Socket;
  route: string;
}

/** What the parent sends on the control pipe: one JSON line. */
interface ControlMessage {
  argv: string[];
  /** Present when the child inherits the tunnel: its route, and the bytes already read from it (base64). */
  inherited?: { route: string; early: string };
}

/**
 * Runs the relay in a child process (this program with `childCommand`, which reads its instructions from fd 3 with
 * relayArguments) and hands the child's socket to ssh; resolves with the exit code for this process. With `tunnel`,
 * the child relays that open socket (and the bytes this process already read from it) instead of dialing.
 */
export async function relayInBackground(childCommand: string[], argv: string[], log: Log, tunnel?: OpenTunnel): Promise<number> {
  const { tmpdir } = await import('node:os');
  const [ours, theirs] = await socketPair(tmpdir());
  // From the read of the buffered bytes to the spawn, one synchronous stretch: the tunnel is paused and its reads
  // stopped (DialOptions.reads 'bounded'), and spawn() stops a socket's reads once more when it passes it to a child
  // (lib/internal/child_process.js), so no byte can land in this process between the two.
  const early = tunnel ? takeBuffered(tunnel.socket) : undefined;
  const child = spawn(process.execPath, [process.argv[1]!, ...childCommand], {
    stdio: [theirs, theirs, 'inherit', 'pipe', ...(tunnel ? [tunnel.socket] : [])],
    env: process.env,
  });
  // Close, never shut down: the child's copy of each stays open.
  theirs.destroy();
  tunnel?.socket.destroy();
  const control = child.stdio[3] as Socket;
  const message: ControlMessage = { argv, ...(tunnel ? { inherited: { route: tunnel.route, early: early!.toString('base64') } } : {}) };
  control.write(`${JSON.stringify(message)}\n`);
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
  log.debug('relaying from a background process; its socket handed to ssh (ProxyUseFdpass)', { child_pid: child.pid, early_bytes: early?.length });
  ours.destroy();
  return 0;
}

/** The bytes a paused stream holds (read() without a size takes them all), or none. */
function takeBuffered(socket: Socket): Buffer {
  return socket.readableLength > 0 ? ((socket.read() as Buffer | null) ?? Buffer.alloc(0)) : Buffer.alloc(0);
}

/** What the relaying child was sent: the arguments, and an inherited tunnel when there is one. */
export interface RelayInstructions {
  argv: string[];
  /** The inherited tunnel, with the bytes already read from it pushed back in front: they reach ssh first. */
  inherited?: OpenTunnel;
  /** Tells the parent the relay is ready (after which it passes our socket to ssh and exits). */
  announceOpen: () => void;
}

/** In the relaying child: the instructions the parent sent on fd 3. */
export async function relayArguments(): Promise<RelayInstructions> {
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
  const message = parseControlMessage(line);
  const announceOpen = () => {
    control.end('open\n');
    control.on('error', () => {});
  };
  if (!message.inherited) return { argv: message.argv, announceOpen };
  const socket = new NetSocket({ fd: INHERITED_TUNNEL_FD, readable: true, writable: true, allowHalfOpen: true });
  // Synchronously after wrapping the fd: no read of the socket has completed yet, so these bytes come first.
  const early = Buffer.from(message.inherited.early, 'base64');
  if (early.length > 0) socket.unshift(early);
  return { argv: message.argv, inherited: { socket, route: message.inherited.route }, announceOpen };
}

function parseControlMessage(line: string): ControlMessage {
  const message = JSON.parse(line) as Partial<ControlMessage> | null;
  const argv = message?.argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error('bad arguments on the control pipe');
  const inherited = message?.inherited;
  if (inherited === undefined) return { argv };
  if (typeof inherited?.route !== 'string' || typeof inherited.early !== 'string') throw new Error('bad tunnel description on the control pipe');
  return { argv, inherited };
}
