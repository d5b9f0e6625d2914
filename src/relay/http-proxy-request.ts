import type { ProxyHeader } from '../route/proxy-headers.ts';
import { isIP } from 'node:net';
import { isBurrowError, type BurrowError } from '../errors.ts';
import { makeTarget, printable, splitHostPort, type Target } from '../route/target.ts';

// The request head a local HTTP proxy receives, parsed by one pure function (table-tested like the CONNECT
// response parser). Strict on purpose: the head's bytes go on to another proxy or server, so a bare CR or LF, a
// control character, an obsolete folded header or a target with spaces is refused with 400 rather than guessed at.

/** Largest request head the local HTTP proxy reads (curl allows 16 KiB of response headers; REFERENCE.md §3). */
export const MAX_REQUEST_HEAD = 16 * 1024;

export type HttpProxyRequest =
  | { kind: 'connect'; target: Target; authority: string; headers: Array<[string, string]>; version: string }
  | { kind: 'forward'; method: string; url: URL; target: Target; headers: Array<[string, string]>; version: string };

export type ParsedRequest = { ok: true; request: HttpProxyRequest } | { ok: false; status: number; reason: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values: visible ASCII, obs-text, space and tab; nothing else.
const FIELD_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

/** `head` is everything up to and including the blank line (CRLF CRLF), as latin1. */
export function parseProxyRequestHead(head: string): ParsedRequest {
  const bad = (reason: string, status = 400): ParsedRequest => ({ ok: false, status, reason });
  if (!head.endsWith('\r\n\r\n')) return bad('the request head does not end with an empty line');
  const lines = head.slice(0, -4).split('\r\n');
  if (lines.some((line) => line.includes('\r') || line.includes('\n'))) return bad('a bare CR or LF in the request head');
  const requestLine = lines[0] ?? '';
  const match = /^(\S+) (\S+) HTTP\/(1\.[01])$/.exec(requestLine);
  if (!match) return bad(`not an HTTP/1.x request line: "${printable(requestLine.slice(0, 100))}"`);
  const [, method, requestTarget, version] = match as unknown as [string, string, string, string];
  if (!TOKEN.test(method)) return bad(`bad method "${printable(method.slice(0, 30))}"`);
  if (/[\u0000-\u0020\u007f-\u00ff]/.test(requestTarget)) return bad('control characters in the request target');

  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) return bad('obsolete folded header line');
    const colon = line.indexOf(':');
    if (colon <= 0) return bad(`bad header line "${printable(line.slice(0, 60))}"`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name)) return bad(`bad header name "${printable(name.slice(0, 60))}"`);
    if (!FIELD_VALUE.test(value)) return bad(`control characters in header ${name}`);
    headers.push([name, value]);
  }

  if (method === 'CONNECT') {
    const authority = parseAuthority(requestTarget);
    if (typeof authority === 'string') return bad(authority);
    return { ok: true, request: { kind: 'connect', target: authority, authority: requestTarget, headers, version } };
  }
  if (requestTarget.startsWith('/')) {
    return bad('origin-form request to a proxy: send the absolute URL (http://host/path), as clients configured with a proxy do');
  }
  let url: URL;
  try {
    url = new URL(requestTarget);
  } catch {
    return bad(`bad request URL "${printable(requestTarget.slice(0, 100))}"`);
  }
  if (url.protocol !== 'http:') {
    return bad(`only http:// URLs are fetched; for ${url.protocol}// a client sends CONNECT`, url.protocol === 'https:' ? 400 : 501);
  }
  if (url.username || url.password) return bad('credentials in the request URL are not forwarded');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  try {
    return { ok: true, request: { kind: 'forward', method, url, target: makeTarget(host, url.port === '' ? 80 : Number(url.port)), headers, version } };
  } catch (error) {
    return bad(isBurrowError(error) ? error.message : String(error));
  }
}

/** `host:port` or `[v6]:port`, as in a CONNECT request target. An error message when it is not one. */
export function parseAuthority(text: string): Target | string {
  if (text.startsWith('[') && !/^\[[^\]]*\]:/.test(text)) return `bad CONNECT target "${printable(text.slice(0, 100))}"`;
  const { host, port, bracketed } = splitHostPort(text);
  if (bracketed && isIP(host) !== 6) return `"${printable(host)}" in brackets is not an IPv6 address`;
  if (port === undefined || host === '') {
    if (!bracketed && host.includes(':')) return `CONNECT target "${printable(text.slice(0, 100))}": an IPv6 address must be in brackets`;
    return `CONNECT target "${printable(text.slice(0, 100))}" has no port`;
  }
  if (!bracketed && host.includes(':')) return `CONNECT target "${printable(text.slice(0, 100))}": an IPv6 address must be in brackets`;
  try {
    return makeTarget(host, port);
  } catch (error) {
    return isBurrowError(error) ? error.message : String(error);
  }
}

export function headerValue(headers: Array<[string, string]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own: never passed on.
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade']);

/**
 * The head to send for a plain-HTTP request: absolute-form to an upstream HTTP proxy (with its credentials), or
 * origin-form to the server. One request per connection: `Connection: close` (the local client reconnects) — but
 * for a leg that only asks an upstream proxy for its NTLM challenge (`challengeLeg`), the connection is kept and the
 * body left out (Content-Length: 0, as curl does): that leg is answered 407, never forwarded.
 */
export function buildForwardHead(request: Extract<HttpProxyRequest, { kind: 'forward' }>, upstream: { proxyAuthorization?: string | undefined; challengeLeg?: boolean; headers?: readonly ProxyHeader[] } | undefined): string {
  const listed = new Set(
    (headerValue(request.headers, 'connection') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const requestTarget = upstream ? request.url.href : `${request.url.pathname}${request.url.search}`;
  // Host always from the request URL (RFC 9112 §3.2.2: a proxy replaces a received Host with the absolute-form
  // target's), which WHATWG URL parsing has already put in its ASCII (IDNA) form.
  const lines = [`${request.method} ${requestTarget} HTTP/1.1`, `Host: ${request.url.host}`];
  const challengeLeg = upstream?.challengeLeg === true;
  // RFC 9112 §6.3: with Transfer-Encoding present, Content-Length is wrong or a smuggling attempt; an intermediary drops it.
  const chunked = headerValue(request.headers, 'transfer-encoding') !== undefined;
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || lower === 'host') continue;
    if ((challengeLeg || chunked) && lower === 'content-length') continue;
    if (challengeLeg && lower === 'transfer-encoding') continue;
    lines.push(`${name}: ${value}`);
  }
  // --proxy-header / headers: are for the proxy: they replace the client's header of the same name.
  for (const header of upstream?.headers ?? []) {
    const lower = header.name.toLowerCase();
    for (let i = lines.length - 1; i > 0; i--) if (lines[i]!.slice(0, lines[i]!.indexOf(':')).toLowerCase() === lower) lines.splice(i, 1);
    lines.push(`${header.name}: ${header.value}`);
  }
  if (upstream?.proxyAuthorization) lines.push(`Proxy-Authorization: ${upstream.proxyAuthorization}`);
  if (challengeLeg) lines.push('Content-Length: 0', 'Proxy-Connection: Keep-Alive');
  else lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The local proxy's own answer: a status, a one-paragraph text body, and what went wrong in X-Burrow-Error. */
export function errorResponse(status: number, body: string, extraHeaders: string[] = []): string {
  const text = `${body}\n`;
  return [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: close',
    ...extraHeaders,
    '',
    text,
  ].join('\r\n');
}

/** The HTTP status that says what went wrong on the way out. 407 is never used: that would ask for *our* password. */
export function httpStatusFor(error: BurrowError): number {
  switch (error.kind) {
    case 'usage':
      return 400;
    case 'refused':
      return 403;
    case 'unreachable':
      return error.timedOut || /ETIMEDOUT/.test(error.said ?? '') ? 504 : 502;
    default:
      return 502;
  }
}
