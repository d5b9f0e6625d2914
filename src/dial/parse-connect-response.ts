import { printable } from '../route/target.ts';
// A bounded, tolerant parser for a proxy's answer to CONNECT (REFERENCE.md §3):
// - HTTP/1.0 and HTTP/1.1, any status, a status line with or without a reason phrase;
// - headers split across packets (the caller feeds the growing buffer again), CRLF or bare LF line ends;
// - at most MAX_HEADER_BYTES of head (curl allows 16 KiB): beyond that the proxy is broken or hostile;
// - anything after the blank line is tunnel data and is reported by offset, never dropped;
// - Content-Length / Transfer-Encoding on a 2xx CONNECT answer are ignored (RFC 9110 §9.3.6).
// Pure: no sockets, so every case is a table test.

export const MAX_HEADER_BYTES = 16 * 1024;

export interface ConnectResponse {
  httpVersion: string;
  statusCode: number;
  /** The reason phrase, possibly empty. */
  reason: string;
  /** The status line as received, for messages. */
  statusLine: string;
  /** Header names lower-cased, in order, repeated names kept. */
  headers: Array<[string, string]>;
  /** Bytes of head including the blank line: everything from here on belongs to the tunnel. */
  headLength: number;
}

export type ParseResult =
  | { kind: 'incomplete' }
  | { kind: 'complete'; response: ConnectResponse }
  | { kind: 'invalid'; reason: string };

const HTTP_PREFIX = Buffer.from('HTTP/');
const STATUS_LINE = /^HTTP\/(1\.[01])[ \t]+(\d{3})(?:[ \t]+(.*))?$/;

export function parseConnectResponse(buffer: Buffer, maxHeaderBytes = MAX_HEADER_BYTES): ParseResult {
  const prefixLength = Math.min(buffer.length, HTTP_PREFIX.length);
  if (buffer.subarray(0, prefixLength).compare(HTTP_PREFIX, 0, prefixLength) !== 0) {
    return { kind: 'invalid', reason: describeForeignBytes(buffer) };
  }
  const end = findHeadEnd(buffer, maxHeaderBytes);
  if (end === undefined) {
    if (buffer.length >= maxHeaderBytes) {
      return { kind: 'invalid', reason: `the proxy's answer has more than ${maxHeaderBytes} bytes of headers` };
    }
    return { kind: 'incomplete' };
  }
  const head = buffer.subarray(0, end.headEnd).toString('latin1');
  const lines = head.split(/\r?\n/);
  const statusLine = (lines.shift() ?? '').trimEnd();
  const match = STATUS_LINE.exec(statusLine);
  if (!match) {
    return { kind: 'invalid', reason: `the proxy answered with a malformed status line "${visible(statusLine)}"` };
  }
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    if (line === '') continue;
    const last = headers[headers.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last[1] = `${last[1]} ${line.trim()}`; // obsolete line folding
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // tolerate junk lines rather than fail a tunnel that the proxy did open
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return {
    kind: 'complete',
    response: {
      httpVersion: match[1]!,
      statusCode: Number(match[2]),
      reason: (match[3] ?? '').trim(),
      statusLine: visible(statusLine),
      headers,
      headLength: end.headLength,
    },
  };
}

export function headerValues(response: ConnectResponse, name: string): string[] {
  return response.headers.filter(([key]) => key === name).map(([, value]) => value);
}

/** Finds the blank line that ends the head: CRLF CRLF, or bare LF LF from sloppy proxies. */
function findHeadEnd(buffer: Buffer, limit: number): { headEnd: number; headLength: number } | undefined {
  const searchable = buffer.length > limit ? buffer.subarray(0, limit) : buffer;
  for (let i = 0; i < searchable.length; i++) {
    if (searchable[i] !== 0x0a) continue;
    if (searchable[i + 1] === 0x0a) return { headEnd: i, headLength: i + 2 };
    if (searchable[i + 1] === 0x0d && searchable[i + 2] === 0x0a) return { headEnd: i, headLength: i + 3 };
  }
  return undefined;
}

function describeForeignBytes(buffer: Buffer): string {
  const text = buffer.subarray(0, 64).toString('latin1');
  if (text.startsWith('SSH-')) {
    return `the peer sent an SSH banner ("${visible(text.split(/\r?\n/)[0] ?? '')}"): it is an SSH server, not an HTTP proxy`;
  }
  if (buffer[0] === 0x05 || buffer[0] === 0x00 || buffer[0] === 0x04) {
    return 'the peer answered with binary bytes that look like SOCKS: it may be a SOCKS proxy (use socks5:// or socks5h://)';
  }
  if (buffer[0] === 0x15 || buffer[0] === 0x16) {
    return 'the peer answered with TLS: it may be an HTTPS proxy (use https://)';
  }
  return `the peer did not answer with HTTP ("${visible(text.split(/\r?\n/)[0] ?? '')}")`;
}

function visible(text: string): string {
  return printable(text.slice(0, 200), { nonAscii: true });
}
