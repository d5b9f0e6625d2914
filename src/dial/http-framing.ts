// HTTP/1.1 message framing (RFC 9112 §6-7), the one decoder of chunked and Content-Length bodies: fed chunk by chunk,
// it says how many bytes still belong to the message and hands over its data. Used by the local proxy (where a
// forwarded request ends), the dialer (skipping a 407's body between authentication legs) and the Teleport ping
// (the JSON body). Explicit states, table-tested (test/unit/request-body.test.ts).

/** Longest chunk-size line or trailer line read (extensions included). */
const MAX_LINE = 4096;

export type BodyState =
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size'; line: string }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-end'; line: string }
  | { kind: 'trailer'; line: string }
  | { kind: 'done' }
  /** The framing broke (a bad chunk-size line, a line too long): the message ends where it went wrong. */
  | { kind: 'invalid'; reason: string };

/**
 * Feeds `chunk` to the body's state: how many of its bytes still belong to the request (the rest come after its
 * end) and the state after them. A malformed chunked body ends the request where it goes wrong: the bad framing line
 * (a chunk size that is not hex, data without its CRLF, a line past MAX_LINE) is not counted, so a relay never
 * forwards it. A line continued from an earlier chunk starts at 0 here (oneRequestFilter holds such bytes back).
 */
export function takeBody(state: BodyState, chunk: Buffer, onData?: (data: Buffer) => void): { take: number; state: BodyState } {
  let at = 0;
  let current = state;
  while (current.kind !== 'done' && current.kind !== 'invalid' && at < chunk.length) {
    switch (current.kind) {
      case 'length':
      case 'chunk-data': {
        const n = Math.min(current.remaining, chunk.length - at);
        onData?.(chunk.subarray(at, at + n));
        at += n;
        const remaining = current.remaining - n;
        if (remaining > 0) current = { kind: current.kind, remaining };
        else current = current.kind === 'length' ? { kind: 'done' } : { kind: 'chunk-end', line: '' };
        break;
      }
      case 'chunk-size':
      case 'chunk-end':
      case 'trailer': {
        const lineStart = at;
        const newline = chunk.indexOf(0x0a, at);
        const end = newline < 0 ? chunk.length : newline + 1;
        const line = current.line + chunk.subarray(at, end).toString('latin1');
        if (line.length > MAX_LINE) return { take: lineStart, state: { kind: 'invalid', reason: 'a chunk-size or trailer line is too long' } };
        at = end;
        if (newline < 0) {
          current = { kind: current.kind, line };
          break;
        }
        current = afterLine(current.kind, line.replace(/\r?\n$/, ''));
        if (current.kind === 'invalid') return { take: lineStart, state: current };
        break;
      }
    }
  }
  return { take: at, state: current };
}

function afterLine(kind: 'chunk-size' | 'chunk-end' | 'trailer', line: string): BodyState {
  if (kind === 'chunk-end') return line === '' ? { kind: 'chunk-size', line: '' } : { kind: 'invalid', reason: 'chunk data not followed by CRLF' };
  if (kind === 'trailer') return line === '' ? { kind: 'done' } : { kind: 'trailer', line: '' };
  const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
  if (!size) return { kind: 'invalid', reason: 'a malformed chunk-size line' };
  const n = parseInt(size[1]!, 16);
  return n === 0 ? { kind: 'trailer', line: '' } : { kind: 'chunk-data', remaining: n };
}

/** The framing of a message from its headers: chunked (Transfer-Encoding wins), else Content-Length, else none. */
export function bodyFraming(transferEncoding: string[], contentLength: string | undefined): BodyState {
  if (transferEncoding.some((v) => /chunked/i.test(v))) return { kind: 'chunk-size', line: '' };
  const length = Number(contentLength ?? '0');
  return Number.isSafeInteger(length) && length > 0 ? { kind: 'length', remaining: length } : { kind: 'done' };
}
