import { isIP } from 'node:net';
import { usageError } from '../errors.ts';

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
  return host;
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
  const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(trimmed);
  if (bracketed) return withPort(bracketed[1]!, bracketed[2], defaultPort, trimmed);
  if (isIP(trimmed) === 6) return withPort(trimmed, undefined, defaultPort, trimmed);
  const colon = trimmed.lastIndexOf(':');
  if (colon < 0) return withPort(trimmed, undefined, defaultPort, trimmed);
  return withPort(trimmed.slice(0, colon), trimmed.slice(colon + 1), defaultPort, trimmed);
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

/** host:port with IPv6 literals bracketed, as CONNECT's request target and Host header want it. */
export function formatHostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

export function formatTarget(target: Target): string {
  return formatHostPort(target.host, target.port);
}

/** Makes control characters visible in messages instead of letting them act on the terminal. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
