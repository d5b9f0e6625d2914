import { headerValue } from './http-proxy-request.ts';

// Where a plain-HTTP request forwarded by the local proxy ends (RFC 9112 §6): its head, then a body framed by
// Transfer-Encoding: chunked or by Content-Length, or none. The local proxy serves one request per client
// connection; the bytes after that request's end are dropped, so a pipelined second request (which could carry the
// bridge's own Proxy-Authorization) never reaches the origin raw. Explicit states, fed chunk by chunk, table-tested.

/** Longest chunk-size line or trailer line read (extensions included). */
const MAX_LINE = 4096;

export type BodyState =
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size'; line: string }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-end'; line: string }
  | { kind: 'trailer'; line: string }
  | { kind: 'done' };

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

/**
 * Feeds `chunk` to the body's state: how many of its bytes still belong to the request (the rest come after its
 * end) and the state after them. A malformed chunked body ends the request where it goes wrong.
 */
export function takeBody(state: BodyState, chunk: Buffer): { take: number; state: BodyState } {
  let at = 0;
  let current = state;
  while (current.kind !== 'done' && at < chunk.length) {
    switch (current.kind) {
      case 'length':
      case 'chunk-data': {
        const n = Math.min(current.remaining, chunk.length - at);
        at += n;
        const remaining = current.remaining - n;
        if (remaining > 0) current = { kind: current.kind, remaining };
        else current = current.kind === 'length' ? { kind: 'done' } : { kind: 'chunk-end', line: '' };
        break;
      }
      case 'chunk-size':
      case 'chunk-end':
      case 'trailer': {
        const newline = chunk.indexOf(0x0a, at);
        const end = newline < 0 ? chunk.length : newline + 1;
        const line = current.line + chunk.subarray(at, end).toString('latin1');
        at = end;
        if (line.length > MAX_LINE) return { take: at, state: { kind: 'done' } };
        if (newline < 0) {
          current = { kind: current.kind, line };
          break;
        }
        current = afterLine(current.kind, line.replace(/\r?\n$/, ''));
        break;
      }
    }
  }
  return { take: at, state: current };
}

function afterLine(kind: 'chunk-size' | 'chunk-end' | 'trailer', line: string): BodyState {
  if (kind === 'chunk-end') return line === '' ? { kind: 'chunk-size', line: '' } : { kind: 'done' };
  if (kind === 'trailer') return line === '' ? { kind: 'done' } : { kind: 'trailer', line: '' };
  const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
  if (!size) return { kind: 'done' };
  const n = parseInt(size[1]!, 16);
  return n === 0 ? { kind: 'trailer', line: '' } : { kind: 'chunk-data', remaining: n };
}

/** A filter for the client's bytes: each call passes on what belongs to the request and drops what follows it. */
export function oneRequestFilter(state: BodyState): (chunk: Buffer) => Buffer {
  let current = state;
  return (chunk) => {
    if (current.kind === 'done') return chunk.subarray(0, 0);
    const { take, state: next } = takeBody(current, chunk);
    current = next;
    return take === chunk.length ? chunk : chunk.subarray(0, take);
  };
}
