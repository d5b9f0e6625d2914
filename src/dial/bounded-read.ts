import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

// Reads that never take a byte past the handshake, for `connect --fdpass`: the socket is handed to ssh afterwards,
// and a byte of the SSH banner that Node had read would be lost to it (a proxy often sends its 200 and the target's
// first bytes in one segment). netcat's -F reads the proxy's answer one byte at a time for the same reason.
//
// The socket is created with Node's `onread` option: every read lands in a buffer whose size we choose before the
// read, so the kernel never hands over more than that. By default that is one byte (a SOCKS reply is a few bytes
// and the socks package takes them in any pieces); the HTTP CONNECT reader asks for just as many bytes as cannot
// run past the end of a response head, and a 407's body (nothing follows it until we ask again) is read in bulk.

const MAX_READ_BYTES = 64 * 1024;

type ReadSize = () => number;

const readSizes = new WeakMap<Duplex, { next: ReadSize }>();

/** Options for net.connect() that make reads bounded; call `bind` with the socket connect() returns. */
export function boundedReadOptions(): { onread: { buffer: () => Uint8Array; callback: (n: number, buffer: Uint8Array) => boolean }; bind(socket: Socket): void } {
  const buffer = Buffer.allocUnsafe(MAX_READ_BYTES);
  const state = { next: (() => 1) as ReadSize };
  let socket: Socket | undefined;
  return {
    onread: {
      buffer: () => buffer.subarray(0, Math.max(1, Math.min(MAX_READ_BYTES, state.next()))),
      // The handshake readers listen for 'data' (onread bypasses it): give them a copy, the buffer is reused.
      callback: (n, chunk) => {
        socket?.emit('data', Buffer.from(chunk.subarray(0, n)));
        return true;
      },
    },
    bind(s: Socket) {
      socket = s;
      readSizes.set(s, state);
    },
  };
}

/**
 * While `next` is in place, reads on `stream` (when it was opened with bounded reads) take at most `next()` bytes.
 * Returns the function that puts the one-byte default back.
 */
export function limitReads(stream: Duplex, next: ReadSize): () => void {
  const state = readSizes.get(stream);
  if (!state) return () => {};
  state.next = next;
  return () => {
    state.next = () => 1;
  };
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
export const UNBOUNDED: ReadSize = () => MAX_READ_BYTES;
