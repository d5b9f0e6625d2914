import { isIP } from 'node:net';
import { isBurrowError, type BurrowError } from '../errors.ts';
import { makeTarget, type Target } from '../route/target.ts';
import type { ByteReader } from './byte-reader.ts';

// The server side of SOCKS5 (RFC 1928, user/password RFC 1929) and SOCKS4/4a, as explicit steps over a bounded
// reader: greeting -> (auth) -> request. Every length on the wire is one byte (at most 255), SOCKS4's NUL-ended
// fields are capped, and the whole handshake has one deadline (ByteReader). Only CONNECT is served.

export const SOCKS5 = {
  VERSION: 0x05,
  AUTH_VERSION: 0x01,
  METHOD_NONE: 0x00,
  METHOD_USERPASS: 0x02,
  METHOD_NO_ACCEPTABLE: 0xff,
  CMD_CONNECT: 0x01,
  ATYP_IPV4: 0x01,
  ATYP_DOMAIN: 0x03,
  ATYP_IPV6: 0x04,
  REP_SUCCEEDED: 0x00,
  REP_GENERAL_FAILURE: 0x01,
  REP_NOT_ALLOWED: 0x02,
  REP_NETWORK_UNREACHABLE: 0x03,
  REP_HOST_UNREACHABLE: 0x04,
  REP_CONNECTION_REFUSED: 0x05,
  REP_TTL_EXPIRED: 0x06,
  REP_COMMAND_NOT_SUPPORTED: 0x07,
  REP_ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

export const SOCKS4 = {
  VERSION: 0x04,
  CMD_CONNECT: 0x01,
  REPLY_VERSION: 0x00,
  GRANTED: 0x5a,
  REJECTED: 0x5b,
  /** SOCKS4 user ids and SOCKS4a host names: more than this without a NUL is not a request. */
  MAX_FIELD: 256,
} as const;

export interface Credentials {
  user: string;
  password: string;
}

/** What the handshake produced: a target to dial, or a refusal already sent to the client. */
export type SocksOutcome =
  | { kind: 'connect'; version: 4 | 5; target: Target; reply: (error?: BurrowError) => Buffer }
  | { kind: 'refused'; reason: string; reply?: Buffer };

export interface SocksPolicy {
  /** Required user/password; undefined means none asked. */
  auth?: Credentials;
  /** Without auth, only loopback clients are served. */
  clientAllowed: boolean;
  checkCredentials: (user: string, password: string) => boolean;
}

/** Reads one SOCKS handshake; `write` sends the intermediate answers (method choice, auth status). */
export async function socksHandshake(reader: ByteReader, write: (data: Buffer) => void, policy: SocksPolicy): Promise<SocksOutcome> {
  const version = await reader.peek();
  if (version === SOCKS5.VERSION) return socks5(reader, write, policy);
  if (version === SOCKS4.VERSION) return socks4(reader, policy);
  return { kind: 'refused', reason: `not a SOCKS request (first byte 0x${version.toString(16).padStart(2, '0')})` };
}

async function socks5(reader: ByteReader, write: (data: Buffer) => void, policy: SocksPolicy): Promise<SocksOutcome> {
  const [, count] = await reader.read(2);
  if (count === 0) return { kind: 'refused', reason: 'SOCKS5 greeting offers no methods', reply: Buffer.from([SOCKS5.VERSION, SOCKS5.METHOD_NO_ACCEPTABLE]) };
  const methods = [...(await reader.read(count!))];
  let method: number;
  if (policy.auth) method = methods.includes(SOCKS5.METHOD_USERPASS) ? SOCKS5.METHOD_USERPASS : SOCKS5.METHOD_NO_ACCEPTABLE;
  else if (methods.includes(SOCKS5.METHOD_NONE)) method = SOCKS5.METHOD_NONE;
  // A client configured with a password talks to an open server: take it, check nothing.
  else if (methods.includes(SOCKS5.METHOD_USERPASS)) method = SOCKS5.METHOD_USERPASS;
  else method = SOCKS5.METHOD_NO_ACCEPTABLE;
  if (method === SOCKS5.METHOD_NO_ACCEPTABLE) {
    return {
      kind: 'refused',
      reason: policy.auth ? 'SOCKS5 client offers no user/password authentication, which --auth requires' : `SOCKS5 client offers no method burrow supports (${methods.join(',')})`,
      reply: Buffer.from([SOCKS5.VERSION, SOCKS5.METHOD_NO_ACCEPTABLE]),
    };
  }
  write(Buffer.from([SOCKS5.VERSION, method]));
  if (method === SOCKS5.METHOD_USERPASS) {
    const [authVersion, userLength] = await reader.read(2);
    if (authVersion !== SOCKS5.AUTH_VERSION) {
      return { kind: 'refused', reason: `bad SOCKS5 user/password version 0x${authVersion!.toString(16)}`, reply: Buffer.from([SOCKS5.AUTH_VERSION, 0x01]) };
    }
    const user = (await reader.read(userLength!)).toString('utf8');
    const [passwordLength] = await reader.read(1);
    const password = (await reader.read(passwordLength!)).toString('utf8');
    if (policy.auth && !policy.checkCredentials(user, password)) {
      return { kind: 'refused', reason: `SOCKS5 authentication failed for user "${user.slice(0, 64)}"`, reply: Buffer.from([SOCKS5.AUTH_VERSION, 0x01]) };
    }
    write(Buffer.from([SOCKS5.AUTH_VERSION, 0x00]));
  }
  const [requestVersion, command, , addressType] = await reader.read(4);
  const fail = (code: number, reason: string): SocksOutcome => ({ kind: 'refused', reason, reply: socks5Reply(code) });
  if (requestVersion !== SOCKS5.VERSION) return fail(SOCKS5.REP_GENERAL_FAILURE, `bad SOCKS5 request version 0x${requestVersion!.toString(16)}`);
  let host: string;
  if (addressType === SOCKS5.ATYP_IPV4) host = [...(await reader.read(4))].join('.');
  else if (addressType === SOCKS5.ATYP_IPV6) host = ipv6FromBytes(await reader.read(16));
  else if (addressType === SOCKS5.ATYP_DOMAIN) {
    const [length] = await reader.read(1);
    host = (await reader.read(length!)).toString('utf8');
  } else return fail(SOCKS5.REP_ADDRESS_TYPE_NOT_SUPPORTED, `SOCKS5 address type 0x${addressType!.toString(16)} is not supported`);
  const port = (await reader.read(2)).readUInt16BE(0);
  if (command !== SOCKS5.CMD_CONNECT) return fail(SOCKS5.REP_COMMAND_NOT_SUPPORTED, `SOCKS5 command 0x${command!.toString(16)} is not supported (only CONNECT)`);
  if (!policy.clientAllowed) return fail(SOCKS5.REP_NOT_ALLOWED, 'only loopback clients are served without --auth');
  const target = checkedTarget(host, port);
  if (typeof target === 'string') return fail(SOCKS5.REP_GENERAL_FAILURE, target);
  return { kind: 'connect', version: 5, target, reply: (error) => socks5Reply(error ? socks5CodeFor(error) : SOCKS5.REP_SUCCEEDED) };
}

async function socks4(reader: ByteReader, policy: SocksPolicy): Promise<SocksOutcome> {
  const head = await reader.read(8);
  const command = head[1]!;
  const port = head.readUInt16BE(2);
  const ip = [...head.subarray(4, 8)];
  await reader.readUntil(Buffer.from([0]), SOCKS4.MAX_FIELD); // user id: SOCKS4 has no password to check
  let host = ip.join('.');
  // SOCKS4a: 0.0.0.x with x != 0 means "a host name follows".
  if (ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0) {
    host = (await reader.readUntil(Buffer.from([0]), SOCKS4.MAX_FIELD)).subarray(0, -1).toString('utf8');
  }
  const reject = (reason: string): SocksOutcome => ({ kind: 'refused', reason, reply: socks4Reply(false) });
  if (command !== SOCKS4.CMD_CONNECT) return reject(`SOCKS4 command 0x${command.toString(16)} is not supported (only CONNECT)`);
  if (policy.auth) return reject('SOCKS4 cannot carry a password, and --auth requires one: use SOCKS5');
  if (!policy.clientAllowed) return reject('only loopback clients are served without --auth');
  const target = checkedTarget(host, port);
  if (typeof target === 'string') return reject(target);
  return { kind: 'connect', version: 4, target, reply: (error) => socks4Reply(!error) };
}

function checkedTarget(host: string, port: number): Target | string {
  if (port === 0) return 'target port 0';
  try {
    return makeTarget(host, port);
  } catch (error) {
    return isBurrowError(error) ? error.message : String(error);
  }
}

export function socks5Reply(code: number): Buffer {
  // BND.ADDR/PORT 0.0.0.0:0: clients of a CONNECT tunnel do not use them.
  return Buffer.from([SOCKS5.VERSION, code, 0x00, SOCKS5.ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
}

export function socks4Reply(granted: boolean): Buffer {
  return Buffer.from([SOCKS4.REPLY_VERSION, granted ? SOCKS4.GRANTED : SOCKS4.REJECTED, 0, 0, 0, 0, 0, 0]);
}

/** The SOCKS5 reply code that says what went wrong on the way out. */
export function socks5CodeFor(error: BurrowError): number {
  const said = (error.said ?? '').toUpperCase();
  switch (error.kind) {
    case 'refused':
    case 'auth':
      // The route's proxy said no (or wants other credentials): a rule set, as far as our client can tell.
      return SOCKS5.REP_NOT_ALLOWED;
    case 'unreachable':
      if (said.includes('ECONNREFUSED')) return SOCKS5.REP_CONNECTION_REFUSED;
      if (said.includes('ENETUNREACH')) return SOCKS5.REP_NETWORK_UNREACHABLE;
      if (error.timedOut || said.includes('ETIMEDOUT')) return SOCKS5.REP_TTL_EXPIRED;
      return SOCKS5.REP_HOST_UNREACHABLE;
    default:
      return SOCKS5.REP_GENERAL_FAILURE;
  }
}

function ipv6FromBytes(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  const text = groups.join(':');
  return isIP(text) === 6 ? text : '::';
}
