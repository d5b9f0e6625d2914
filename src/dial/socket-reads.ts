import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

// Where a tunnel socket's reads land, for `burrow connect` (DialOptions.reads). The socket is created with Node's
// `onread` option: every read goes into one buffer allocated once, of a size chosen before each read.
//
// - 'bounded' (`connect --fdpass`): the socket is handed to ssh after the handshake, and a byte of the SSH banner read
//   here would be lost to it (a proxy often sends its 200 and the target's first bytes in one segment; netcat's -F
//   reads the answer a byte at a time for the same reason). Reads take one byte by default (a SOCKS reply is a few
//   bytes, and the socks package takes them in any pieces); the HTTP CONNECT reader asks for just as many as cannot
//   run past the end of a response head, and a 407's body (nothing follows it until we ask again) is read in bulk.
// - 'reused' (relay mode): handshake reads are whole; afterwards the relay takes the reads itself (takeReads) and
//   writes each straight to stdout from the same buffer: no allocation per chunk, as stdin -> tunnel already does.
//
// During the handshake the readers (HTTP CONNECT, the socks package) listen for 'data', which onread bypasses: each
// read is copied into the stream as Node would. The socket starts paused (connectTcp): nothing is read until a
// handshake reader or the relay asks, so a target's banner on a direct route stays in the kernel for ssh.
//
// A paused Readable still reads ahead to fill its buffer up to readableHighWaterMark (maybeReadMore, scheduled on
// every push, calls _read, which restarts the socket's reads before control returns to libuv). In 'bounded' mode the
// mark is 0: the moment a handshake reader pauses the socket (the socks package does so synchronously on the reply's
// last byte), no further read starts. Without it, a reply and a banner in one segment lost the banner to this
// process (22 bytes behind dante in CI; test/integration/fdpass.test.ts forces it).

export type ReadMode = 'bounded' | 'reused';

/** What a consumer of reads returns: false to stop reading until the socket is resumed. */
export type OnRead = (n: number, buffer: Uint8Array) => boolean;

type ReadSize = () => number;

interface ReadState {
  next: ReadSize;
  readonly whole: ReadSize;
  consumer?: OnRead;
}

/** One read at most this size: as stdin -> tunnel (src/relay/stdio.ts). */
const READ_BUFFER_BYTES = 256 * 1024;
const WHOLE: ReadSize = () => READ_BUFFER_BYTES;
const ONE_BYTE: ReadSize = () => 1;

const states = new WeakMap<Duplex, ReadState>();

/** Options for net.connect(); call `bind` with the socket connect() returns. */
export function readOptions(mode: ReadMode): {
  onread: { buffer: () => Uint8Array; callback: OnRead };
  readableHighWaterMark: number | undefined;
  bind(socket: Socket): void;
} {
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const whole = mode === 'bounded' ? ONE_BYTE : WHOLE;
  const state: ReadState = { next: whole, whole };
  let socket: Socket | undefined;
  return {
    readableHighWaterMark: mode === 'bounded' ? 0 : undefined,
    onread: {
      buffer: () => buffer.subarray(0, Math.max(1, Math.min(READ_BUFFER_BYTES, state.next()))),
      callback: (n, chunk) => {
        if (state.consumer) return state.consumer(n, chunk);
        // A copy into the stream's own buffer: a paused stream keeps it (never dropped), a flowing one emits it.
        socket?.push(Buffer.from(chunk.subarray(0, n)));
        // 'bounded': stop libuv's read loop (up to 32 reads per wake-up) after each byte, so that whether the next
        // read starts is decided in JavaScript: by the stream's flowing state and the zero high-water mark above.
        return state.whole !== ONE_BYTE;
      },
    },
    bind(s: Socket) {
      socket = s;
      states.set(s, state);
    },
  };
}

/**
 * While `next` is in place, reads on `stream` (when it was opened in 'bounded' mode) take at most `next()` bytes.
 * Returns the function that puts the mode's default back.
 */
export function limitReads(stream: Duplex, next: ReadSize): () => void {
  const state = states.get(stream);
  if (!state || state.whole !== ONE_BYTE) return () => {};
  state.next = next;
  return () => {
    state.next = state.whole;
  };
}

/**
 * Hands every further read of `stream` to `consumer` (no 'data' events). The buffer is reused: the consumer must
 * return false while it still needs the bytes (e.g. a queued write) and resume the stream when done. False when
 * `stream` was not opened with readOptions (e.g. a TLS tunnel): the caller reads it as any stream.
 */
export function takeReads(stream: Duplex, consumer: OnRead): boolean {
  const state = states.get(stream);
  if (!state || state.whole !== WHOLE) return false;
  state.consumer = consumer;
  return true;
}

/**
 * The most bytes that can be read without passing the end of an HTTP head, given what came so far. The parser also
 * takes bare-LF heads, so the shortest ends are "\n\n", "\r\n\n" and "\n\r\n": after a "\n" (or "\n\r") one more byte
 * may end the head; otherwise at least two are needed.
 */
export function headReadSize(received: Buffer): number {
  const n = received.length;
  const last = received[n - 1];
  if (last === LF) return 1;
  if (last === CR && received[n - 2] === LF) return 1;
  return 2;
}

const CR = 0x0d;
const LF = 0x0a;

/** The whole of a read may be taken: nothing follows until we send again (a 407's body). */
export const UNBOUNDED: ReadSize = WHOLE;
