import { isIP } from 'node:net';
import { usageError } from '../errors.ts';
import { hostNameToAscii } from './host-name.ts';

/** Where the user wants to go. `host` is a name or an IP literal without brackets. */
export interface Target {
  host: string;
  port: number;
}

// Host names reach the wire inside `CONNECT host:port HTTP/1.1`: a CR, LF, space or any other control character
// would let a hostile %h smuggle headers (REFERENCE.md §3). Reject them before anything touches the network.
const FORBIDDEN_HOST_CHARS = /[\u0000-\u0020\u007f-\u009f/\\?#@]/;

export function parsePort(text: string, what = 'port'): number {
  if (!/^\d{1,5}$/.test(text)) throw usageError(`${what} "${printable(text)}" is not a number from 1 to 65535`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw usageError(`${what} ${port} is outside 1-65535`);
  return port;
}

export function validateHost(raw: string): string {
  let host = raw;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.length === 0) throw usageError('the target host is empty');
  if (host.length > 255) throw usageError('the target host is longer than 255 characters');
  if (FORBIDDEN_HOST_CHARS.test(host)) {
    throw usageError(`the target host "${printable(host)}" contains a space, a control character or URL syntax`);
  }
  if (host.includes(':') && isIP(host) !== 6) {
    throw usageError(`the target host "${printable(host)}" has a colon but is not an IPv6 address`, 'give the port as a separate argument: burrow connect HOST PORT');
  }
  return asciiHostName(host);
}

/**
 * A host name as it goes on the wire: names with non-ASCII letters in their IDNA (punycode) form, as Go's net/http
 * and curl send them (`bücher.example` -> `xn--bcher-kva.example`, host-name.ts); a name that does not convert
 * (UTS #46) is refused. ASCII names pass as they are (validateHost has checked them).
 */
export function asciiHostName(host: string): string {
  if (/^[\u0000-\u007f]*$/.test(host)) return host;
  const ascii = hostNameToAscii(host);
  if (ascii === undefined) throw usageError(`the host name "${printable(host)}" is not a valid international domain name (it has no IDNA form)`);
  return ascii;
}

export function makeTarget(host: string, port: string | number): Target {
  return { host: validateHost(host), port: typeof port === 'number' ? checkPortNumber(port) : parsePort(port) };
}

/**
 * "host:port", "[v6]:port" or, with `defaultPort`, a bare "host" / "[v6]" / "v6". Every host:port that comes from
 * outside (arguments, a config, a PAC answer, a Teleport ping answer) goes through here, so that each one is
 * validated like `burrow connect`'s own arguments before it can reach a CONNECT line.
 */
export function parseHostPort(text: string, defaultPort?: number): Target {
  const trimmed = text.trim();
  const { host, port } = splitHostPort(trimmed);
  return withPort(host, port, defaultPort, trimmed);
}

/**
 * The one host:port splitter (syntax only; callers validate): "[v6]:port" and "[v6]" by the brackets, a bare IPv6
 * literal as a host without port, anything else at its last colon. `bracketed` tells whether the host was in
 * brackets (CONNECT's request target requires them for IPv6).
 */
export function splitHostPort(text: string): { host: string; port?: string; bracketed: boolean } {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) return { host: bracketed[1]!, ...(bracketed[2] !== undefined ? { port: bracketed[2] } : {}), bracketed: true };
  if (isIP(text) === 6) return { host: text, bracketed: false };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text, bracketed: false };
  return { host: text.slice(0, colon), port: text.slice(colon + 1), bracketed: false };
}

function withPort(host: string, port: string | undefined, defaultPort: number | undefined, text: string): Target {
  if (port === undefined || port === '') {
    if (defaultPort === undefined) throw usageError(`"${printable(text)}" has no port`, 'write HOST:PORT ([v6]:PORT for IPv6)');
    return makeTarget(host, defaultPort);
  }
  return makeTarget(host, port);
}

function checkPortNumber(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`port ${port} is outside 1-65535`);
  return port;
}

/** A host as it goes in a URL or before ":port": IPv6 literals in brackets, anything else as it is. */
export function bracketHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** host:port with IPv6 literals bracketed, as CONNECT's request target and Host header want it. */
export function formatHostPort(host: string, port: number): string {
  return `${bracketHost(host)}:${port}`;
}

export function formatTarget(target: Target): string {
  return formatHostPort(target.host, target.port);
}

/**
 * Makes control characters visible (\\xNN) in messages instead of letting them act on the terminal. `nonAscii`:
 * also every byte above 0x7f, for text decoded as latin1 from a peer that should have sent ASCII.
 */
export function printable(text: string, { nonAscii = false }: { nonAscii?: boolean } = {}): string {
  const pattern = nonAscii ? /[\u0000-\u001f\u007f-\u00ff]/g : /[\u0000-\u001f\u007f-\u009f]/g;
  return text.replace(pattern, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
