import { takeBody, type BodyState } from '../dial/http-framing.ts';
import { headerValue } from './http-proxy-request.ts';

// Where a plain-HTTP request forwarded by the local proxy ends (RFC 9112 §6): its head, then a body framed by
// Transfer-Encoding: chunked or by Content-Length, or none. The local proxy serves one request per client
// connection; the bytes after that request's end are dropped, so a pipelined second request (which could carry the
// bridge's own Proxy-Authorization) never reaches the origin raw. Explicit states, fed chunk by chunk, table-tested.

/** The body's framing from the request's headers, or why the request cannot be forwarded (a 400). */
export function requestBody(headers: Array<[string, string]>): BodyState | { error: string } {
  const encoding = headerValue(headers, 'transfer-encoding');
  if (encoding !== undefined) {
    const codings = encoding.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
    if (codings[codings.length - 1] !== 'chunked') return { error: `Transfer-Encoding "${encoding}" does not end with chunked` };
    // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3); the head keeps both, as it always did.
    return { kind: 'chunk-size', line: '' };
  }
  const lengths = headers.filter(([name]) => name.toLowerCase() === 'content-length').flatMap(([, value]) => value.split(',').map((v) => v.trim()));
  if (lengths.length === 0) return { kind: 'done' };
  if (!lengths.every((v) => /^\d{1,15}$/.test(v)) || new Set(lengths.map(Number)).size !== 1) return { error: `bad Content-Length "${lengths.join(', ')}"` };
  const length = Number(lengths[0]);
  return length === 0 ? { kind: 'done' } : { kind: 'length', remaining: length };
}

const isLine = (state: BodyState): state is Extract<BodyState, { line: string }> => 'line' in state;

/**
 * A filter for the client's bytes: each call passes on what belongs to the request and drops what follows it. The
 * bytes of a framing line are held back until the line is complete and valid, so a malformed one is never forwarded.
 */
export function oneRequestFilter(state: BodyState): (chunk: Buffer) => Buffer {
  let current = state;
  return (chunk) => {
    if (current.kind === 'done' || current.kind === 'invalid') return chunk.subarray(0, 0);
    const held = isLine(current) ? Buffer.from(current.line, 'latin1') : chunk.subarray(0, 0);
    const { take, state: next } = takeBody(current, chunk);
    current = next;
    // An unfinished line at the end of this chunk stays held (it lives on in the state's `line`).
    const unfinished = isLine(next) ? Buffer.byteLength(next.line, 'latin1') : 0;
    if (unfinished > take) return chunk.subarray(0, 0); // the held line goes on through the whole chunk
    if (held.length > 0 && take === 0) return chunk.subarray(0, 0); // the held line was the malformed one
    const passed = chunk.subarray(0, take - unfinished);
    return held.length > 0 ? Buffer.concat([held, passed]) : passed;
  };
}
