import { closeSync, fstatSync, openSync } from 'node:fs';
import { Socket, type ConnectOpts, type SocketConstructorOpts } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import { BurrowError, describeError } from '../errors.ts';
import type { Log } from '../log.ts';
import { takeReads, type OnRead } from '../dial/socket-reads.ts';

export interface RelayResult {
  /** Bytes from stdin to the target, and from the target to stdout. */
  sent: number;
  received: number;
  /** Why it ended, for the log. */
  reason: string;
  /** Set when a signal ended the relay. */
  signal?: NodeJS.Signals;
}

// Under OpenSSH the ProxyCommand's stdin and stdout are pipes. Wrapping fds 0 and 1 in our own sockets gives
// asynchronous, backpressured I/O with a 64 KiB read size and a real end-of-stream for each direction; a terminal
// or a regular file keeps Node's own stdio streams (a TTY must not be switched to non-blocking under the shell).
// Never read process.stdin/process.stdout after wrapping the fd ourselves: their getters open the fd a second time
// (EEXIST). `own` records which kind we hold.
interface Stdio<T> {
  stream: T;
  own: boolean;
}

/** Reads from a pipe or socket on fd 0 land in one reused buffer of this size (no allocation per chunk). */
const INPUT_BUFFER_BYTES = 256 * 1024;

function openInput(onRead: OnRead): Stdio<Readable> & { zeroCopy: boolean } {
  if (isPipeOrSocket(0)) {
    // `onread` works for any net.Socket (Node >= 12); @types/node only declares it on connect() options.
    const options: SocketConstructorOpts & ConnectOpts = {
      fd: 0,
      readable: true,
      writable: false,
      allowHalfOpen: true,
      onread: { buffer: Buffer.allocUnsafe(INPUT_BUFFER_BYTES), callback: onRead },
    };
    const stream = new Socket(options);
    return { stream, own: true, zeroCopy: true };
  }
  return { stream: process.stdin, own: false, zeroCopy: false };
}

function openOutput(): Stdio<Writable> {
  if (isPipeOrSocket(1)) return { stream: new Socket({ fd: 1, readable: false, writable: true, allowHalfOpen: true }), own: true };
  return { stream: process.stdout, own: false }; // stdout-ok: the tunnel itself
}

/**
 * Ends stdout so that its reader sees EOF now, not when burrow exits. libuv never closes fds 0-2 (uv__stream_close
 * skips them), so ending and destroying our socket on fd 1 shuts down a socket but leaves a pipe's write end open:
 * OpenSSH gives the ProxyCommand a pipe(2) as stdout, and ssh then waited for an EOF that came only when stdin closed,
 * which ssh does only after that EOF: a hang. Closing fd 1 ourselves ends the pipe; /dev/null takes the slot so that a
 * late write to fd 1 (or an fd opened afterwards) can never reach the tunnel's reader.
 */
function endOutput(output: Writable, own: boolean): void {
  if (output.writableEnded) return;
  if (!own) {
    output.end();
    return;
  }
  output.once('close', () => {
    try {
      closeSync(1);
      openSync('/dev/null', 'w');
    } catch {
      // fd 1 already gone: nothing left to end.
    }
  });
  output.end(() => output.destroy());
}

function isPipeOrSocket(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

const TERMINATING_SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGTERM'];

/** What the tunnel leads to, for messages: the target host:port and the route ("direct" or the hops). */
export interface TunnelLabel {
  target: string;
  route: string;
}

/**
 * The line that goes with ssh's bare "Connection closed by remote host" when the target hung up before saying
 * anything: the usual causes are a refusal that does not speak (sshd's MaxStartups, a firewall, a Teleport proxy).
 */
export function closedWithoutAWord(label: TunnelLabel): BurrowError {
  const via = label.route === 'direct' ? 'directly' : `through ${label.route}`;
  return new BurrowError('broken', `the target ${label.target} (reached ${via}) closed the connection without a word (0 bytes)`, {
    target: label.target,
    ...(label.route === 'direct' ? {} : { proxy: label.route }),
    said: 'connection closed',
    hint: "a server that refuses you without an answer: sshd's MaxStartups (too many unauthenticated connections), a firewall, or a Teleport proxy refusing you; check that the port is the service you expect (`burrow doctor HOST:PORT`)",
  });
}

/**
 * Bridges stdin/stdout and the tunnel until both directions have ended: stdin's EOF becomes a FIN to the target
 * (and the target's answer is still read), the target's FIN ends stdout (and stdin still flows). OpenSSH ends a
 * session with SIGHUP, which is a normal end. Resolves; rejects only with a BurrowError of kind 'broken'.
 */
export function relayStdio(tunnel: Duplex, log: Log, label: TunnelLabel): Promise<RelayResult> {
  // Both directions without pipe() where the source allows it: each read lands in the source's one buffer and is
  // written straight on (stdin -> tunnel always from a pipe or socket; tunnel -> stdout when the dial opened the
  // socket with reused-buffer reads, i.e. no TLS hop).
  const { stream: input, own: ownInput, zeroCopy } = openInput(forwardReads(() => input, tunnel, (n) => (result.sent += n)));
  const { stream: output, own: ownOutput } = openOutput();
  const directDownload = takeReads(tunnel, forwardReads(() => tunnel, output, (n) => (result.received += n)));
  const interactive = Boolean((input as { isTTY?: boolean }).isTTY);
  const result: RelayResult = { sent: 0, received: 0, reason: '' };
  let inputDone = false;
  let outputDone = false;

  return new Promise<RelayResult>((resolve, reject) => {
    let settled = false;
    const finish = (reason: string, error?: BurrowError) => {
      if (settled) return;
      settled = true;
      result.reason = reason;
      for (const signal of TERMINATING_SIGNALS) process.off(signal, onSignal);
      input.unpipe(tunnel);
      tunnel.unpipe(output);
      tunnel.destroy();
      if (ownInput) input.destroy();
      else input.pause();
      endOutput(output, ownOutput);
      if (error) reject(error);
      else resolve(result);
    };
    const checkDone = () => {
      if (inputDone && outputDone) finish('both directions closed');
    };
    const onSignal = (signal: NodeJS.Signals) => {
      result.signal = signal;
      finish(signal === 'SIGHUP' ? 'SIGHUP (the ssh session ended)' : signal);
    };
    for (const signal of TERMINATING_SIGNALS) process.on(signal, onSignal);

    if (!zeroCopy) {
      input.on('data', (chunk: Buffer) => {
        result.sent += chunk.length;
      });
    }
    if (!directDownload) {
      tunnel.on('data', (chunk: Buffer) => {
        result.received += chunk.length;
      });
    }
    // stdin EOF -> FIN towards the target (pipe's default end() on the socket); then wait for the target.
    input.once('end', () => log.debug('stdin closed: half-closing the tunnel'));
    input.on('error', (error: NodeJS.ErrnoException) => {
      log.debug('stdin error, treated as end of input', { code: error.code });
      tunnel.end();
    });
    tunnel.once('finish', () => {
      inputDone = true;
      checkDone();
    });
    // Target FIN -> end stdout so that ssh sees EOF; stdin keeps flowing unless it is a terminal, where nobody is
    // left to type into a closed connection.
    tunnel.once('end', () => {
      log.debug('target closed its side: ending stdout');
      // Said, not thrown: stdin may still flow (half-close), and ssh prints its own "Connection closed" beside it.
      if (result.received === 0) log.error(describeError(closedWithoutAWord(label)));
      if (interactive) inputDone = true;
      endOutput(output, ownOutput);
    });
    output.once('finish', () => {
      outputDone = true;
      checkDone();
    });
    output.on('error', (error: NodeJS.ErrnoException) => {
      // EPIPE: whoever read our stdout (ssh) is gone; the session is over.
      finish(`stdout closed (${error.code ?? error.message})`);
    });
    tunnel.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      const code = error.code ?? error.message;
      finish(
        `tunnel error ${code}`,
        new BurrowError('broken', `the tunnel to ${label.target} ${label.route === 'direct' ? '(direct)' : `through ${label.route}`} broke after it was established: ${code} (after ${result.sent} bytes sent, ${result.received} received)`, {
          target: label.target,
          ...(label.route === 'direct' ? {} : { proxy: label.route }),
          said: code,
          cause: error,
          hint: 'the proxy or the target reset the connection; a proxy with an idle or session time limit does this to long-lived tunnels (ssh -o ServerAliveInterval=30 keeps them busy)',
        }),
      );
    });
    tunnel.once('close', () => {
      // Fully closed without both ends seen: e.g. a reset that already reported, or a proxy that closed at once.
      if (!settled && !(inputDone && outputDone)) {
        setImmediate(() => finish('the tunnel closed'));
      }
    });

    if (zeroCopy) {
      input.once('end', () => tunnel.end());
      input.resume();
    } else {
      input.pipe(tunnel);
    }
    if (directDownload) {
      // Bytes that came behind the proxy's answer were pushed back into the stream: they go first.
      const early = tunnel.readableLength > 0 ? (tunnel.read() as Buffer | null) : null;
      if (early) {
        result.received += early.length;
        output.write(early);
      }
      tunnel.resume();
    } else {
      tunnel.pipe(output, { end: false });
    }
  });
}

/**
 * A reader that writes each read straight to `sink` from the source's reused buffer. A write the kernel takes at once
 * (the usual case) frees the buffer immediately; a queued one still points into it, so reading stops (returning
 * false pauses the source) until that write completes. Backpressure therefore needs no pipe() and no copy.
 */
function forwardReads(source: () => Readable, sink: Writable, count: (n: number) => void): OnRead {
  return (n, buffer) => {
    count(n);
    let sync = true;
    let waiting = false;
    sink.write(buffer.subarray(0, n), () => {
      if (!sync && waiting) source().resume();
    });
    sync = false;
    if (sink.writableLength === 0) return true;
    waiting = true;
    return false;
  };
}
