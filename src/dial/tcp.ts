import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BurrowError } from '../errors.ts';
import { formatHostPort } from '../route/target.ts';
import { readOptions } from './socket-reads.ts';
import type { DialAttempt } from './context.ts';

export interface TcpPeer {
  host: string;
  port: number;
  /** "proxy http://p:3128" or "target h:22", for messages. */
  role: 'proxy' | 'target';
  label: string;
}

// One TCP connection, both address families raced (Happy Eyeballs via autoSelectFamily), half-open allowed so
// that each direction of the tunnel can end on its own, Nagle off because ssh keystrokes are tiny writes.
export function connectTcp(peer: TcpPeer, attempt: DialAttempt): Promise<Socket> {
  return new Promise((resolve, reject) => {
    attempt.phase = `connecting to ${peer.role} ${peer.label}`;
    attempt.stage = peer.role === 'proxy' ? 'proxy-connect' : 'target-connect';
    const reads = attempt.reads ? readOptions(attempt.reads) : undefined;
    const socket = connect({ host: peer.host, port: peer.port, allowHalfOpen: true, autoSelectFamily: true, noDelay: true, ...(reads ? { onread: reads.onread, readableHighWaterMark: reads.readableHighWaterMark } : {}) });
    if (reads) {
      reads.bind(socket);
      // Paused before it connects: no read starts by itself (see socket-reads.ts).
      socket.pause();
    }
    attempt.sockets.push(socket);
    const onError = (error: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(tcpError(error, peer));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      // Between handshake steps (a DNS lookup, a lazy import, a password prompt) nobody else may be listening: an
      // 'error' then would crash the process. Keep the error; the next step sees the socket destroyed and says so.
      socket.on('error', (error: NodeJS.ErrnoException) => {
        attempt.error ??= error;
      });
      resolve(socket);
    });
  });
}

export function tcpError(error: NodeJS.ErrnoException, peer: TcpPeer): BurrowError {
  const where = formatHostPort(peer.host, peer.port);
  const code = error.code ?? 'ERROR';
  const aggregate = (error as { errors?: NodeJS.ErrnoException[] }).errors;
  const detail = aggregate?.length ? aggregate.map((e) => e.code ?? e.message).join(', ') : code;
  const details = { said: detail, cause: error, [peer.role]: peer.label, phase: peer.role === 'proxy' ? ('proxy-connect' as const) : ('target-connect' as const) };
  const viaProxy = peer.role === 'proxy';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return new BurrowError('unreachable', `cannot resolve the ${peer.role} host ${peer.host} (${code})`, {
        ...details,
        hint: viaProxy
          ? 'check the proxy host name in the proxy URL or variable; from inside the network, ask which proxy to use'
          : 'check the host name; if only the proxy can resolve names here, set a proxy (HTTPS_PROXY, ALL_PROXY=socks5h://...) or use --proxy',
      });
    case 'ECONNREFUSED':
      return new BurrowError('unreachable', `the ${peer.role} ${peer.label} refused the TCP connection (${detail})`, {
        ...details,
        hint: viaProxy ? 'is the proxy address and port right, and is the proxy running?' : 'nothing listens on that port, or a firewall rejects it; check the port, or whether this network needs a proxy',
      });
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new BurrowError('unreachable', `cannot reach the ${peer.role} ${peer.label} at ${where} (${detail})`, {
        ...details,
        hint: viaProxy ? 'the proxy is down or not reachable from this network' : 'a firewall may drop direct connections here: try a proxy (HTTPS_PROXY, --proxy); `burrow doctor` shows what is reachable',
      });
    default:
      return new BurrowError('unreachable', `cannot connect to the ${peer.role} ${peer.label} at ${where}: ${error.message}`, details);
  }
}

/**
 * Throws when the connection died while no handshake step was listening (see connectTcp): the next step would
 * otherwise write into a dead socket and wait for an answer that cannot come.
 */
export function ensureOpen(stream: Duplex, attempt: DialAttempt, label: string): void {
  if (!stream.destroyed && !attempt.error) return;
  const code = attempt.error?.code ?? attempt.error?.message ?? 'closed';
  throw new BurrowError('unreachable', `the connection to the proxy ${label} broke during the handshake (${code})`, {
    proxy: label,
    said: code,
    phase: 'proxy-closed',
    ...(attempt.error ? { cause: attempt.error } : {}),
    hint: 'the proxy reset or closed the connection; if it keeps happening, ask its administrators what it refuses',
  });
}
