import { isIP } from 'node:net';
import { usageError } from '../errors.ts';
import { formatHostPort, makeTarget, printable, type Target } from '../route/target.ts';

// The listener specs of `burrow forward`, in OpenSSH's syntax (ssh(1) -L and -D):
//   -L [BIND:]PORT:HOST:HOSTPORT     -D [BIND:]PORT     --http [BIND:]PORT
// IPv6 addresses go in brackets ([::1]:2222:[2001:db8::1]:22). An empty BIND or "*" means every interface, as in
// ssh with GatewayPorts. Without BIND, burrow binds 127.0.0.1 (DESIGN.md: local listeners are loopback by default).
// Pure functions; the table in test/unit/forward-spec.test.ts is their specification.

export const DEFAULT_BIND = '127.0.0.1';
/** What "*" and an empty bind address mean: every IPv4 interface. */
export const ANY_BIND = '0.0.0.0';

export interface ListenAddress {
  /** Host name or IP literal, IPv6 without brackets. */
  host: string;
  /** 0 asks the system for a free port (see --print-port). */
  port: number;
}

export interface LocalForwardSpec {
  listen: ListenAddress;
  target: Target;
  /** The text the user gave, for messages. */
  text: string;
}

export interface ListenSpec {
  listen: ListenAddress;
  text: string;
}

/** Splits at ":" outside brackets; "[::1]" stays one field (brackets kept so the caller knows it was bracketed). */
export function splitFields(text: string): string[] {
  const fields: string[] = [];
  let current = '';
  let depth = 0;
  for (const c of text) {
    if (c === '[') {
      if (depth > 0) throw usageError(`"${printable(text)}" has a "[" inside brackets`);
      depth++;
    } else if (c === ']') {
      if (depth === 0) throw usageError(`"${printable(text)}" has a "]" without its "["`);
      depth--;
    }
    if (c === ':' && depth === 0) {
      fields.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (depth !== 0) throw usageError(`"${printable(text)}" has a "[" without its "]"`);
  fields.push(current);
  return fields;
}

function unbracket(field: string): { host: string; bracketed: boolean } {
  if (field.startsWith('[') && field.endsWith(']')) return { host: field.slice(1, -1), bracketed: true };
  if (field.includes('[') || field.includes(']')) throw usageError(`"${printable(field)}": brackets must enclose the whole address`);
  return { host: field, bracketed: false };
}

function listenPort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw usageError(`${what} "${printable(text)}" is not a port number from 0 to 65535`);
  const port = Number(text);
  if (port > 65535) throw usageError(`${what} ${port} is outside 0-65535`);
  return port;
}

function bindHost(field: string | undefined): string {
  if (field === undefined) return DEFAULT_BIND;
  const { host, bracketed } = unbracket(field);
  if (host === '' || host === '*') return ANY_BIND;
  if (bracketed && isIP(host) !== 6) throw usageError(`bind address "${printable(field)}" is bracketed but is not an IPv6 address`);
  if (/[\s\u0000-\u001f\u007f/\\?#@]/.test(host)) throw usageError(`bind address "${printable(host)}" contains a space, a control character or URL syntax`);
  return host;
}

/** `-L [BIND:]PORT:HOST:HOSTPORT` */
export function parseLocalForward(text: string): LocalForwardSpec {
  const fields = splitFields(text.trim());
  if (fields.length !== 3 && fields.length !== 4) {
    throw usageError(
      `-L "${printable(text)}" is not [BIND:]PORT:HOST:HOSTPORT`,
      fields.length > 4 ? 'write IPv6 addresses in brackets: -L 2222:[2001:db8::1]:22' : 'for example -L 2222:jump.example.org:22',
    );
  }
  const [bind, port, host, hostPort] = fields.length === 4 ? fields : [undefined, ...fields];
  const { host: targetHost, bracketed } = unbracket(host!);
  if (targetHost === '') throw usageError(`-L "${printable(text)}" has no target host`);
  if (bracketed && isIP(targetHost) !== 6) throw usageError(`-L "${printable(text)}": target host "${printable(host!)}" is bracketed but is not an IPv6 address`);
  return {
    listen: { host: bindHost(bind), port: listenPort(port!, '-L listen port') },
    target: makeTarget(targetHost, hostPort!),
    text,
  };
}

/** `-D [BIND:]PORT` and `--http [BIND:]PORT` */
export function parseListenSpec(text: string, option = '-D'): ListenSpec {
  const fields = splitFields(text.trim());
  if (fields.length > 2) {
    throw usageError(`${option} "${printable(text)}" is not [BIND:]PORT`, fields.length > 2 ? 'write an IPv6 bind address in brackets: [::1]:1080' : undefined);
  }
  const [bind, port] = fields.length === 2 ? fields : [undefined, fields[0]];
  return { listen: { host: bindHost(bind), port: listenPort(port!, `${option} port`) }, text };
}

/** Loopback bind addresses: 127.0.0.0/8, ::1, localhost. Anything else gets a start-up warning. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

export function formatListen(address: ListenAddress): string {
  return formatHostPort(address.host, address.port);
}
