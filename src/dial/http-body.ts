import type { Duplex } from 'node:stream';
import { BurrowError } from '../errors.ts';
import { bodyFraming, takeBody } from './http-framing.ts';
import { headerValues, type ConnectResponse } from './parse-connect-response.ts';

// Skipping the body of a 407 so that the next authentication leg can use the same connection (NTLM and Negotiate
// require it). Bounded: a body larger than MAX_BODY_BYTES is not worth keeping the connection for.

const MAX_BODY_BYTES = 1024 * 1024;

/** True when the connection may carry another request after this answer, and its body has a known end. */
export function keepsConnection(response: ConnectResponse): boolean {
  const connection = [...headerValues(response, 'connection'), ...headerValues(response, 'proxy-connection')].join(',').toLowerCase();
  if (/\bclose\b/.test(connection)) return false;
  if (response.httpVersion === '1.0' && !/\bkeep-alive\b/.test(connection)) return false;
  const chunked = headerValues(response, 'transfer-encoding').some((v) => /chunked/i.test(v));
  const length = headerValues(response, 'content-length')[0];
  if (chunked) return true;
  return length !== undefined && /^\d+$/.test(length.trim()) && Number(length) <= MAX_BODY_BYTES;
}

/** Consumes the body; resolves with whatever arrived after it (the start of the next answer, if pipelined). */
export function drainBody(stream: Duplex, response: ConnectResponse, initial: Buffer): Promise<Buffer> {
  let framing = bodyFraming(headerValues(response, 'transfer-encoding'), headerValues(response, 'content-length')[0]);
  return new Promise((resolve, reject) => {
    let buffer = initial;
    let total = 0;
    const finish = (rest: Buffer) => {
      cleanup();
      resolve(rest);
    };
    const fail = (message: string) => {
      cleanup();
      stream.destroy();
      reject(new BurrowError('refused', message, { said: response.statusLine }));
    };
    const step = (): boolean => {
      const { take, state } = takeBody(framing, buffer, (data) => (total += data.length));
      framing = state;
      // Counted with what the framing already announces (a chunk size), so a 2 MiB chunk fails now, not at the timeout.
      const announced = state.kind === 'chunk-data' || state.kind === 'length' ? state.remaining : 0;
      if (total + announced > MAX_BODY_BYTES) {
        fail('the proxy\'s 407 body is larger than 1 MiB');
        return true;
      }
      if (state.kind === 'invalid') {
        fail(`the proxy's 407 body is malformed: ${state.reason}`);
        return true;
      }
      if (state.kind === 'done') {
        finish(buffer.subarray(take));
        return true;
      }
      buffer = Buffer.alloc(0);
      return false;
    };
    const onData = (chunk: Buffer) => {
      buffer = chunk;
      step();
    };
    const onEnd = () => fail('the proxy closed the connection in the middle of its 407 answer');
    const onError = (error: NodeJS.ErrnoException) => fail(`the connection to the proxy failed in the middle of its 407 answer: ${error.code ?? error.message}`);
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause();
    };
    if (step()) return;
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.resume();
  });
}
