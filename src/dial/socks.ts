import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SocksClientOptions } from 'socks';
import { BurrowError } from '../errors.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import { formatHostPort, validateHost } from '../route/target.ts';
import { ensureOpen } from './tcp.ts';
import type { DialAttempt } from './context.ts';
import type { Destination } from './http-connect.ts';

type SocksModule = typeof import('socks');

// The socks package always sends host names as names (ATYP domain / SOCKS4a), so "who resolves" is decided here:
// socks4 and socks5 resolve locally and send an address; socks4a and socks5h send the name for the proxy to resolve.
async function destinationAddress(destination: Destination, proxy: ProxyEndpoint, attempt: DialAttempt): Promise<string> {
  if (isIP(destination.host) || proxy.scheme === 'socks4a' || proxy.scheme === 'socks5h') return destination.host;
  attempt.phase = `resolving ${destination.host} locally for ${proxy.scheme}://`;
  try {
    const found = await lookup(destination.host, { family: proxy.scheme === 'socks4' ? 4 : 0 });
    return found.address;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
    throw new BurrowError('unreachable', `cannot resolve ${destination.host} locally (${code}), which ${proxy.scheme}:// requires`, {
      proxy: displayProxy(proxy),
      target: formatHostPort(destination.host, destination.port),
      said: code,
      hint: `use ${proxy.scheme === 'socks4' ? 'socks4a' : 'socks5h'}:// so that the proxy resolves the name`,
    });
  }
}

export async function socksConnect(stream: Duplex, destination: Destination, proxy: ProxyEndpoint, attempt: DialAttempt, deadline: number): Promise<Duplex> {
  validateHost(destination.host); // the last check before a name reaches the wire, whoever built the destination
  const host = await destinationAddress(destination, proxy, attempt);
  const label = displayProxy(proxy);
  const target = formatHostPort(destination.host, destination.port);
  attempt.phase = `SOCKS handshake with ${label} for ${target}`;
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
    timeout: Math.max(1, deadline - Date.now()),
    existing_socket: stream,
  };
  let socket: Socket;
  try {
    const handshake = SocksClient.createConnection(options);
    // The previous hop handed the stream over paused; the socks client has attached its reader synchronously.
    stream.resume();
    ({ socket } = await handshake);
  } catch (error) {
    throw socksError(error as Error, proxy, target, attempt);
  }
  return captureEarlyBytes(socket);
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

function socksError(error: Error, proxy: ProxyEndpoint, target: string, attempt: DialAttempt): BurrowError {
  const label = displayProxy(proxy);
  const text = error.message;
  const details = { proxy: label, target, said: text, cause: error };
  if (/authentication|no accepted authentication/i.test(text)) {
    const sent = proxy.username !== undefined;
    return new BurrowError('auth', `the SOCKS proxy ${label} ${sent ? `rejected the credentials for user "${proxy.username}"` : 'requires a user name and password'} (${text})`, {
      ...details,
      hint: sent ? 'check the user name and password (percent-encoded in the URL)' : 'put USER:PASSWORD@ in front of the host in the proxy URL, percent-encoded',
    });
  }
  if (/timed out/i.test(text) || attempt.timedOut) {
    return new BurrowError('unreachable', `the SOCKS proxy ${label} did not complete the handshake for ${target} in time`, {
      ...details,
      hint: 'the proxy or the target is slow or unreachable; raise --connect-timeout if the network is just slow',
    });
  }
  const rejected = /rejected connection - (\w+)/i.exec(text);
  if (rejected) {
    const reply = rejected[1]!;
    const hints: Record<string, string> = {
      NotAllowed: `the proxy's rules forbid ${target}: ask its administrators, or try NO_PROXY=${target} if the target is reachable directly`,
      ConnectionRefused: `nothing accepts connections on ${target} as seen from the proxy: check the port`,
      HostUnreachable: `the proxy cannot reach ${target}: check the host name (with socks5h:// the proxy resolves it)`,
      NetworkUnreachable: `the proxy has no route to ${target}`,
      TTLExpired: `the proxy timed out reaching ${target}`,
      Failure: 'the proxy failed for a reason it does not say; its log will',
    };
    return new BurrowError('refused', `the SOCKS proxy ${label} refused CONNECT ${target}: ${reply}`, { ...details, said: reply, hint: hints[reply] ?? 'see the proxy\'s log' });
  }
  if (/closed|ECONNRESET|invalid/i.test(text)) {
    return new BurrowError('refused', `the SOCKS proxy ${label} broke off the handshake for ${target} (${text})`, {
      ...details,
      hint: 'is it a SOCKS proxy, and of that version? An HTTP proxy needs http://; a SOCKS4 one socks4a://',
    });
  }
  return new BurrowError('refused', `the SOCKS proxy ${label} failed CONNECT ${target}: ${text}`, details);
}
