import type { Duplex } from 'node:stream';

// Sequential, bounded reads from a client socket for the local proxies' handshakes: "give me exactly N bytes" and
// "give me bytes up to this delimiter, at most M of them". Every read is bounded by one deadline for the whole
// handshake, so a client that sends half a greeting and goes quiet is dropped, not kept forever. When the handshake
// is over, release() detaches, pauses the socket and pushes the unread bytes back for the tunnel.

export class ReadError extends Error {
  constructor(
    readonly reason: 'eof' | 'timeout' | 'too-long' | 'error',
    message: string,
  ) {
    super(message);
    this.name = 'ReadError';
  }
}

export interface ByteReader {
  /** Exactly n bytes. */
  read(n: number): Promise<Buffer>;
  /** Bytes up to and including `delimiter`; fails with 'too-long' past `max` bytes without it. */
  readUntil(delimiter: Buffer | string, max: number): Promise<Buffer>;
  /** The first byte, without consuming it. */
  peek(): Promise<number>;
  /**
   * Stops reading and pauses the socket. Returns the bytes read but not consumed (they belong to the tunnel: write
   * them to the target first) and whether the client already sent its FIN (then splice() ends the target at once).
   */
  release(): { rest: Buffer; ended: boolean };
}

export function createByteReader(socket: Duplex, timeoutMs: number): ByteReader {
  let buffer: Buffer = Buffer.alloc(0);
  let ended = false;
  let failure: ReadError | undefined;
  let wake: (() => void) | undefined;
  const deadline = setTimeout(() => {
    failure ??= new ReadError('timeout', `no complete request within ${Math.round(timeoutMs / 1000)} s`);
    wake?.();
  }, timeoutMs);
  deadline.unref();

  const onData = (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    // Never buffer more than one handshake needs: stop reading until the parser asked for more.
    socket.pause();
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  const onError = (error: NodeJS.ErrnoException) => {
    failure ??= new ReadError('error', `client error ${error.code ?? error.message}`);
    wake?.();
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.on('error', onError);

  const waitMore = (): Promise<void> => {
    if (failure) return Promise.reject(failure);
    if (ended) return Promise.reject(new ReadError('eof', 'the client closed the connection mid-request'));
    return new Promise<void>((resolve) => {
      wake = () => {
        wake = undefined;
        resolve();
      };
      socket.resume();
    });
  };

  const take = (n: number): Buffer => {
    const out = buffer.subarray(0, n);
    buffer = buffer.subarray(n);
    return out;
  };

  return {
    async read(n) {
      while (buffer.length < n) await waitMore();
      return take(n);
    },
    async readUntil(delimiter, max) {
      const delim = typeof delimiter === 'string' ? Buffer.from(delimiter, 'latin1') : delimiter;
      let searchFrom = 0;
      for (;;) {
        const at = buffer.indexOf(delim, searchFrom);
        if (at >= 0 && at + delim.length <= max) return take(at + delim.length);
        if (at >= 0 || buffer.length >= max) throw new ReadError('too-long', `more than ${max} bytes without the end of the field`);
        searchFrom = Math.max(0, buffer.length - delim.length + 1);
        await waitMore();
      }
    },
    async peek() {
      while (buffer.length < 1) await waitMore();
      return buffer[0]!;
    },
    release() {
      clearTimeout(deadline);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
      const rest = buffer;
      buffer = Buffer.alloc(0);
      return { rest, ended };
    },
  };
}
