import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SocksClientOptions } from 'socks';
import { BurrowError } from '../errors.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import { formatHostPort, validateHost, type Target } from '../route/target.ts';
import { ensureOpen } from './tcp.ts';
import type { DialAttempt } from './context.ts';
import { ClosedBeforeAnswer } from './http-connect.ts';

type SocksModule = typeof import('socks');

// The socks package always sends host names as names (ATYP domain / SOCKS4a), so "who resolves" is decided here:
// socks4 and socks5 resolve locally and send an address; socks4a and socks5h send the name for the proxy to resolve.
async function destinationAddress(destination: Target, proxy: ProxyEndpoint, attempt: DialAttempt): Promise<string> {
  if (isIP(destination.host) || proxy.scheme === 'socks4a' || proxy.scheme === 'socks5h') return destination.host;
  attempt.phase = `resolving ${destination.host} locally for ${proxy.scheme}://`;
  attempt.stage = 'local-resolve';
  try {
    const found = await lookup(destination.host, { family: proxy.scheme === 'socks4' ? 4 : 0 });
    return found.address;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
    throw new BurrowError('unreachable', `cannot resolve ${destination.host} locally (${code}), which ${proxy.scheme}:// requires`, {
      proxy: displayProxy(proxy),
      target: formatHostPort(destination.host, destination.port),
      said: code,
      phase: 'local-resolve',
      hint: `use ${proxy.scheme === 'socks4' ? 'socks4a' : 'socks5h'}:// so that the proxy resolves the name`,
    });
  }
}

export async function socksConnect(stream: Duplex, destination: Target, proxy: ProxyEndpoint, attempt: DialAttempt, deadline: number): Promise<Duplex> {
  validateHost(destination.host); // the last check before a name reaches the wire, whoever built the destination
  const host = await destinationAddress(destination, proxy, attempt);
  const label = displayProxy(proxy);
  const target = formatHostPort(destination.host, destination.port);
  attempt.phase = `waiting for the SOCKS proxy ${label} to answer CONNECT ${target}`;
  const socksModule = (await import('socks')) as SocksModule & { default?: SocksModule };
  const { SocksClient } = socksModule.SocksClient ? socksModule : socksModule.default!;
  ensureOpen(stream, attempt, label);
  const options: SocksClientOptions = {
    command: 'connect',
    destination: { host, port: destination.port },
    proxy: {
      host: proxy.host,
      port: proxy.port,
      type: proxy.scheme.startsWith('socks4') ? 4 : 5,
      ...(proxy.scheme.startsWith('socks4') ? { userId: proxy.username } : { userId: proxy.username, password: proxy.password }),
    },
    // A backstop only: the dial's own clock (whose message says what it waited for) fires first.
    timeout: Math.max(1, deadline - Date.now()) + 1000,
    existing_socket: stream,
  };
  let socket: Socket;
  const version = proxy.scheme.startsWith('socks4') ? 4 : 5;
  let replies: RepliesSeen | undefined;
  let closed: ClosedWatch | undefined;
  try {
    const handshake = SocksClient.createConnection(options);
    // Watched beside the socks client: the proxy's reply codes are the facts a failure is explained by.
    replies = watchReplies(stream, version);
    closed = watchClose(stream, label, target);
    // The previous hop handed the stream over paused; the socks client has attached its reader synchronously.
    stream.resume();
    ({ socket } = await Promise.race([handshake, closed.promise]));
  } catch (error) {
    stream.destroy();
    if (error instanceof ClosedBeforeAnswer) throw error;
    throw socksError(error as Error, proxy, target, attempt, replies?.seen() ?? {}, deadline);
  } finally {
    replies?.stop();
    closed?.stop();
  }
  return captureEarlyBytes(socket);
}

interface ClosedWatch {
  promise: Promise<never>;
  stop(): void;
}

// The socks package waits for 'close' only, and a half-open stream (allowHalfOpen, which the tunnel needs) gets just
// 'end' when the proxy hangs up: the handshake then sat out the whole --connect-timeout. A close before the reply is
// the same fault as an HTTP proxy's and is named the same way (exit 3; failover moves on at once).
function watchClose(stream: Duplex, label: string, target: string): ClosedWatch {
  let received = 0;
  let onEnd: () => void = () => {};
  const onData = (chunk: Buffer) => {
    received += chunk.length;
  };
  const promise = new Promise<never>((_, reject) => {
    onEnd = () => reject(new ClosedBeforeAnswer(label, target, received, true));
  });
  promise.catch(() => {}); // raced: a rejection after the handshake settled goes to nobody
  stream.on('data', onData);
  stream.once('end', onEnd);
  stream.once('close', onEnd);
  return {
    promise,
    stop: () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
    },
  };
}

// The socks package re-emits bytes that arrived behind its reply with socket.emit('data') from a setImmediate and
// then resumes the socket (REFERENCE.md §4): with no listener yet they would be lost. Catch them, and hand the
// socket on paused with those bytes pushed back, like the HTTP CONNECT dialer does.
function captureEarlyBytes(socket: Socket): Promise<Socket> {
  const early: Buffer[] = [];
  const capture = (chunk: Buffer) => early.push(chunk);
  socket.on('data', capture);
  return new Promise((resolve) => {
    setImmediate(() => {
      socket.off('data', capture);
      socket.pause();
      if (early.length > 0) socket.unshift(Buffer.concat(early));
      resolve(socket);
    });
  });
}

/** What the proxy answered at each step, read off the wire (RFC 1928, RFC 1929, SOCKS4). */
interface Seen {
  /** SOCKS5: the authentication method the proxy chose (0xff: none acceptable). */
  method?: number;
  /** SOCKS5 username/password (RFC 1929): 0 is success. */
  authStatus?: number;
  /** SOCKS5 REP or SOCKS4 CD. */
  reply?: number;
}

interface RepliesSeen {
  seen(): Seen;
  stop(): void;
}

function watchReplies(stream: Duplex, version: 4 | 5): RepliesSeen {
  let bytes = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    if (bytes.length < 64) bytes = Buffer.concat([bytes, chunk]);
  };
  stream.on('data', onData);
  return {
    stop: () => stream.off('data', onData),
    seen: () => {
      if (version === 4) return bytes.length >= 2 ? { reply: bytes[1]! } : {};
      const seen: Seen = {};
      if (bytes.length < 2) return seen;
      seen.method = bytes[1]!;
      let offset = 2;
      if (seen.method === 0x02) {
        if (bytes.length < 4) return seen;
        seen.authStatus = bytes[3]!;
        offset = 4;
      }
      if (seen.method !== 0xff && bytes.length >= offset + 2) seen.reply = bytes[offset + 1]!;
      return seen;
    },
  };
}

const SOCKS5_REPLIES = ['Succeeded', 'Failure', 'NotAllowed', 'NetworkUnreachable', 'HostUnreachable', 'ConnectionRefused', 'TTLExpired', 'CommandNotSupported', 'AddressNotSupported'];
const SOCKS4_REPLIES: Record<number, string> = { 90: 'Granted', 91: 'Failed', 92: 'Rejected', 93: 'RejectedIdent' };

function socksError(error: Error, proxy: ProxyEndpoint, target: string, attempt: DialAttempt, seen: Seen, deadline: number): BurrowError {
  const label = displayProxy(proxy);
  const text = error.message;
  const details = { proxy: label, target, said: text, cause: error, phase: 'proxy-handshake' as const };
  const version = proxy.scheme.startsWith('socks4') ? 4 : 5;
  if (seen.method === 0xff || (seen.authStatus !== undefined && seen.authStatus !== 0)) {
    const sent = proxy.username !== undefined;
    return new BurrowError('auth', `the SOCKS proxy ${label} ${sent ? `rejected the credentials for user "${proxy.username}"` : 'requires a user name and password'} (${text})`, {
      ...details,
      phase: 'proxy-auth',
      hint: sent ? 'check the user name and password (percent-encoded in the URL)' : 'put USER:PASSWORD@ in front of the host in the proxy URL, percent-encoded',
    });
  }
  if (attempt.timedOut || Date.now() >= deadline) {
    return new BurrowError('unreachable', `timed out waiting for the SOCKS proxy ${label} to answer CONNECT ${target}`, {
      ...details,
      timedOut: true,
      hint: 'the proxy or the target is slow or unreachable; raise --connect-timeout if the network is just slow',
    });
  }
  const failed = seen.reply !== undefined && (version === 4 ? seen.reply !== 90 : seen.reply !== 0);
  if (failed) {
    const code = seen.reply!;
    const reply = (version === 4 ? SOCKS4_REPLIES[code] : SOCKS5_REPLIES[code]) ?? `reply ${code}`;
    const hints: Record<string, string> = {
      NotAllowed: `the proxy's rules forbid ${target}: ask its administrators, or try NO_PROXY=${target} if the target is reachable directly`,
      ConnectionRefused: `nothing accepts connections on ${target} as seen from the proxy: check the port`,
      HostUnreachable: `the proxy cannot reach ${target}: check the host name (with socks5h:// the proxy resolves it)`,
      NetworkUnreachable: `the proxy has no route to ${target}`,
      TTLExpired: `the proxy timed out reaching ${target}`,
      Failure: 'the proxy failed for a reason it does not say; its log will',
      Failed: `the proxy rejected or failed the request for ${target}: its rules may forbid it, or it cannot reach it; its log will say`,
      Rejected: 'the proxy could not check the user with identd (SOCKS4 ident): use SOCKS5 if it offers it',
      RejectedIdent: 'the proxy\'s identd check failed for this user id',
    };
    return new BurrowError('refused', `the SOCKS proxy ${label} refused CONNECT ${target}: ${reply}`, {
      ...details,
      said: reply,
      socksReply: { version, code, name: reply },
      hint: hints[reply] ?? 'see the proxy\'s log',
    });
  }
  // No (complete) reply: the proxy closed, reset or sent something that is not SOCKS of this version.
  return new BurrowError('refused', `the SOCKS proxy ${label} broke off the handshake for ${target} (${text})`, {
    ...details,
    hint: 'is it a SOCKS proxy, and of that version? An HTTP proxy needs http://; a SOCKS4 one socks4a://',
  });
}
