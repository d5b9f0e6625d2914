import type { Duplex, Readable, Writable } from 'node:stream';

// Two Duplexes joined both ways: a local client and its tunnel. Each direction is its own pump with backpressure
// (pause the reader while the writer's buffer is full) and its own end: the client's FIN becomes a FIN to the
// target while the target's answer keeps flowing back, and the other way round (REFERENCE.md §3: ncat and
// connect.c do this; corkscrew and proxytunnel end everything on the first EOF). Both sockets must have been made
// with allowHalfOpen: true, or Node ends the writable side itself on the first 'end'.

export interface PumpHandle {
  /** Bytes moved so far. */
  readonly bytes: number;
  /** Resolves when `from` ended and `to` has flushed its end (the FIN is out). */
  readonly done: Promise<void>;
  stop(): void;
}

/**
 * One direction: from -> to, with backpressure and end propagation. Errors are the caller's to watch. `filter`
 * may drop bytes (what it returns is written and counted).
 */
export function pump(from: Readable, to: Writable, onBytes?: (n: number) => void, filter?: (chunk: Buffer) => Buffer): PumpHandle {
  let bytes = 0;
  let finished = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const onData = (received: Buffer) => {
    const chunk = filter ? filter(received) : received;
    if (chunk.length === 0) return;
    bytes += chunk.length;
    onBytes?.(chunk.length);
    if (!to.write(chunk)) from.pause();
  };
  const onDrain = () => from.resume();
  const onEnd = () => {
    if (to.writableEnded) return settle();
    to.end(() => settle());
  };
  const settle = () => {
    if (finished) return;
    finished = true;
    resolveDone();
  };
  from.on('data', onData);
  to.on('drain', onDrain);
  // A client whose FIN arrived during a handshake has no 'end' left to emit.
  if (from.readableEnded) onEnd();
  else from.once('end', onEnd);
  from.resume();
  return {
    get bytes() {
      return bytes;
    },
    done,
    stop() {
      from.off('data', onData);
      from.off('end', onEnd);
      to.off('drain', onDrain);
    },
  };
}

export interface SpliceOptions {
  /** Close both sides after this long without a byte in either direction. Default: never. */
  idleTimeoutMs?: number;
  /** Names for the close reason: "client" and "target" by default. */
  names?: [string, string];
  /** What of a's bytes goes on to b (the rest is read and dropped); default: all of them. */
  filterAToB?: (chunk: Buffer) => Buffer;
}

export interface SpliceResult {
  /** Bytes from a to b, and from b to a. */
  aToB: number;
  bToA: number;
  reason: string;
  /** True when it ended by an error, a reset, a timeout or close(): not both FINs. */
  abnormal: boolean;
}

export interface Splice {
  readonly done: Promise<SpliceResult>;
  /** Current byte counts. */
  counts(): { aToB: number; bToA: number };
  /** Ends it now (both sides destroyed) with this reason. */
  close(reason: string): void;
}

/**
 * Relays a <-> b until both directions have ended (or an error, a close or the idle timeout), then destroys both.
 * Never rejects: how it ended is in the result's `reason`.
 */
export function splice(a: Duplex, b: Duplex, options: SpliceOptions = {}): Splice {
  const [nameA, nameB] = options.names ?? ['client', 'target'];
  let lastActivity = Date.now();
  const touch = () => {
    lastActivity = Date.now();
  };
  const ab = pump(a, b, options.idleTimeoutMs ? touch : undefined, options.filterAToB);
  const ba = pump(b, a, options.idleTimeoutMs ? touch : undefined);
  let settled = false;
  let resolveDone!: (result: SpliceResult) => void;
  const done = new Promise<SpliceResult>((resolve) => (resolveDone = resolve));
  let idleTimer: NodeJS.Timeout | undefined;

  const finish = (reason: string, abnormal: boolean) => {
    if (settled) return;
    settled = true;
    if (idleTimer) clearTimeout(idleTimer);
    ab.stop();
    ba.stop();
    a.off('error', onErrorA);
    b.off('error', onErrorB);
    a.off('close', onCloseA);
    b.off('close', onCloseB);
    // Swallow late errors from sockets we are tearing down.
    a.on('error', () => {});
    b.on('error', () => {});
    a.destroy();
    b.destroy();
    resolveDone({ aToB: ab.bytes, bToA: ba.bytes, reason, abnormal });
  };

  let aEnded = false;
  let bEnded = false;
  // "target ended first, then client": when a proxy dies, its FIN comes first, and the log says so.
  const orderly = () => (aEnded && !bEndedFirst ? `${nameA} ended first, then ${nameB}` : `${nameB} ended first, then ${nameA}`);
  let bEndedFirst = false;
  void ab.done.then(() => {
    aEnded = true;
    if (bEnded) finish(orderly(), false);
  });
  void ba.done.then(() => {
    bEnded = true;
    if (!aEnded) bEndedFirst = true;
    if (aEnded) finish(orderly(), false);
  });
  const onErrorA = (error: NodeJS.ErrnoException) => finish(`${nameA} error ${error.code ?? error.message}`, true);
  const onErrorB = (error: NodeJS.ErrnoException) => finish(`${nameB} error ${error.code ?? error.message}`, true);
  // A close before both ends were seen: a reset already reported, or a peer that vanished. Give pending 'end'
  // callbacks a turn first, so an orderly close is not reported as abnormal.
  const onCloseA = () => setImmediate(() => finish(aEnded && bEnded ? orderly() : `${nameA} closed the connection`, !(aEnded && bEnded)));
  const onCloseB = () => setImmediate(() => finish(aEnded && bEnded ? orderly() : `${nameB} closed the connection`, !(aEnded && bEnded)));
  a.on('error', onErrorA);
  b.on('error', onErrorB);
  a.once('close', onCloseA);
  b.once('close', onCloseB);

  if (options.idleTimeoutMs) {
    const limit = options.idleTimeoutMs;
    const check = () => {
      const idle = Date.now() - lastActivity;
      if (idle >= limit) finish(`idle for ${limit / 1000} s (--idle-timeout)`, true);
      else idleTimer = setTimeout(check, limit - idle);
    };
    idleTimer = setTimeout(check, limit);
  }

  return {
    done,
    counts: () => ({ aToB: ab.bytes, bToA: ba.bytes }),
    close: (reason: string) => finish(reason, true),
  };
}
