import type { Duplex } from 'node:stream';
import { BurrowError, withDetails } from '../errors.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import { formatHostPort, validateHost, type Target } from '../route/target.ts';
import { ensureOpen } from './tcp.ts';
import { headReadSize, limitReads, UNBOUNDED } from './socket-reads.ts';
import { VERSION } from '../version.ts';
import { createAuthSession } from './auth/session.ts';
import { describeProxyHeaders, type ProxyHeader } from '../route/proxy-headers.ts';
import type { DialAttempt, ForwardRequest, ProxyAuthFact } from './context.ts';
import { explainConnectRefusal, offeredAuthSchemes, proxyAnswerOf } from './explain-refusal.ts';
import { drainBody, keepsConnection } from './http-body.ts';
import { headerValues, parseConnectResponse, type ConnectResponse } from './parse-connect-response.ts';

/** `headers`: --proxy-header / headers: (validated by route/proxy-headers.ts); a User-Agent among them replaces burrow's. */
export function buildConnectRequest(destination: Target, authorization: string | undefined, headers: readonly ProxyHeader[] = []): string {
  // The last check before a name reaches the wire, whoever built the destination (a PAC answer, a Teleport ping).
  const authority = formatHostPort(validateHost(destination.host), destination.port);
  if (authorization !== undefined && /[\u0000-\u001f\u007f]/.test(authorization)) {
    throw new BurrowError('usage', 'proxy credentials contain a control character', { hint: 'check the user name and password' });
  }
  // Proxy-Connection: keep-alive asks HTTP/1.0-minded proxies to keep the connection across a 407, which NTLM and
  // Negotiate need (every leg on one connection).
  const ownAgent = headers.some((h) => h.name.toLowerCase() === 'user-agent');
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`, ...(ownAgent ? [] : [`User-Agent: burrow/${VERSION}`]), 'Proxy-Connection: Keep-Alive'];
  for (const header of headers) lines.push(`${header.name}: ${header.value}`);
  if (authorization) lines.push(`Proxy-Authorization: ${authorization}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Asks an HTTP proxy, over `stream`, to CONNECT to `destination`, answering 407s as the auth session decides
 * (Basic with the first request only under --proxy-auth basic or to a proxy that asked for it before; otherwise the
 * 407 decides: Negotiate, NTLM, Digest, Basic). `reconnect` opens a fresh connection
 * to this proxy when it closes one between legs. Resolves with the tunnel once the proxy answers 2xx: paused, with
 * any bytes that arrived behind the answer (an SSH banner often shares the packet with the 200) pushed back so that
 * the tunnel's reader sees them first.
 */
export function httpConnect(stream: Duplex, destination: Target, proxy: ProxyEndpoint, attempt: DialAttempt, reconnect: () => Promise<Duplex>): Promise<Duplex> {
  const target = formatHostPort(destination.host, destination.port);
  return exchange(stream, proxy, attempt, reconnect, {
    what: `CONNECT ${target}`,
    target,
    request: (authorization) => buildConnectRequest(destination, authorization, attempt.options.proxyHeaders),
    settle: (answer, rest, open, _received, seen) => {
      if (answer.statusCode < 200 || answer.statusCode >= 300) {
        open.destroy();
        throw refusal(answer, proxy, destination);
      }
      if (rest.length > 0) open.unshift(rest);
      attempt.options.log.debug('proxy accepted CONNECT', { proxy: displayProxy(proxy), target, status: answer.statusLine, early_bytes: rest.length });
      attempt.options.onProxyAuth?.({ proxy: displayProxy(proxy), ...seen });
      return open;
    },
  });
}

/** Sends a plain-HTTP request (ForwardRequest, dial/context.ts) to an HTTP proxy: CONNECT's 407 negotiation, another request. */
export function httpForward(stream: Duplex, destination: Target, request: ForwardRequest, proxy: ProxyEndpoint, attempt: DialAttempt, reconnect: () => Promise<Duplex>): Promise<Duplex> {
  return exchange(stream, proxy, attempt, reconnect, {
    what: `${request.method} ${request.url}`,
    target: formatHostPort(destination.host, destination.port),
    digest: { method: request.method, uri: request.url },
    request: (authorization, challengeLeg) => request.proxyHead(authorization, challengeLeg),
    sendOnly: (challengeLeg) => request.hasBody && !challengeLeg,
    settle: (_answer, _rest, open, received) => {
      open.unshift(received);
      return open;
    },
  });
}

interface Exchange {
  /** "CONNECT host:port" or "GET http://…", for messages. */
  what: string;
  target: string;
  /** Digest's method and request-URI, when not CONNECT host:port. */
  digest?: { method: string; uri: string };
  request(authorization: string | undefined, challengeLeg: boolean): string;
  /** Whether to return right after sending this leg, without reading the answer. */
  sendOnly?(challengeLeg: boolean): boolean;
  /**
   * An answer other than 407: the stream to return (or throw). `received` is the whole answer read so far; `seen` is
   * what the proxy demanded before it answered.
   */
  settle(response: ConnectResponse, rest: Buffer, stream: Duplex, received: Buffer, seen: Omit<ProxyAuthFact, 'proxy'>): Duplex;
}

/** One request to an HTTP proxy and its 407 legs (REFERENCE.md §3); the connection is reopened when the proxy closes it between legs. */
async function exchange(stream: Duplex, proxy: ProxyEndpoint, attempt: DialAttempt, reconnect: () => Promise<Duplex>, ask: Exchange): Promise<Duplex> {
  const label = displayProxy(proxy);
  const { target } = ask;
  const log = attempt.options.log;
  const session = createAuthSession(proxy, target, {
    ...attempt.options.auth,
    pauseClock: attempt.pauseClock,
    ...(ask.digest ? { request: ask.digest } : {}),
    ...(attempt.options.env ? { env: attempt.options.env } : {}),
    ...(attempt.options.fresh ? { fresh: true } : {}),
  });
  let authorization = await session.initial();
  const extra = attempt.options.proxyHeaders;
  if (extra?.length) log.debug('extra proxy request headers', { proxy: label, headers: describeProxyHeaders(extra) });
  let buffered: Buffer = Buffer.alloc(0);
  // Whether the current connection already carried a request: a proxy may close a kept-alive connection without
  // saying so (no "Connection: close"), which shows only as an empty end of stream on the next request.
  let reused = false;
  let mustStay = false;
  let challenged = false;
  for (;;) {
    attempt.phase = `waiting for proxy ${label} to answer ${ask.what}`;
    attempt.stage = 'proxy-handshake';
    ensureOpen(stream, attempt, label);
    const challengeLeg = session.awaitingChallenge();
    stream.write(ask.request(authorization, challengeLeg));
    if (ask.sendOnly?.(challengeLeg)) {
      if (buffered.length > 0) stream.unshift(buffered);
      return stream;
    }
    let head;
    try {
      head = await readResponseHead(stream, buffered, label, target);
    } catch (error) {
      if (!(error instanceof ClosedBeforeAnswer) || !error.silent || !reused) throw error;
      if (mustStay) {
        throw closedMidHandshake(label, target, 'connection closed');
      }
      log.debug('proxy closed a kept-alive connection; reconnecting', { proxy: label });
      attempt.phase = `reconnecting to proxy ${label} to authenticate`;
      stream = await reconnect();
      buffered = Buffer.alloc(0);
      reused = false;
      continue;
    }
    const { response, rest, received } = head;
    if (response.statusCode >= 200 && response.statusCode < 300) await session.accepted();
    if (response.statusCode !== 407) return ask.settle(response, rest, stream, received, { scheme: authorization === undefined ? 'none' : (session.lastScheme() ?? 'none'), challenged });
    challenged = true;
    const offered = headerValues(response, 'proxy-authenticate');
    log.debug('proxy asks for authentication', { proxy: label, status: response.statusLine, offered: offeredAuthSchemes(response).join(', ') });
    let next;
    try {
      next = await session.respond(offered, response.statusLine);
    } catch (error) {
      stream.destroy();
      throw withProxyAnswer(error, response);
    }
    mustStay = next.sameConnection;
    if (keepsConnection(response)) {
      attempt.phase = `reading the body of proxy ${label}'s 407`;
      const bounded = limitReads(stream, UNBOUNDED);
      try {
        buffered = await drainBody(stream, response, rest);
      } catch (error) {
        // The body of a 407 that burrow was answering: whatever broke it (too large, malformed, cut off), the
        // authentication failed, and the message names the proxy and the target like every other auth failure.
        throw error instanceof BurrowError
          ? withDetails(error, {
              kind: 'auth',
              message: `authenticating to the proxy ${label} for CONNECT ${target} failed: ${error.message}`,
              proxy: label,
              target,
              phase: 'proxy-auth',
              hint: 'the proxy\'s answer to the credentials cannot be read; its log will say why. A proxy that also offers Basic may work with --proxy-auth basic',
            })
          : error;
      } finally {
        bounded();
      }
      reused = true;
    } else if (next.sameConnection) {
      stream.destroy();
      throw closedMidHandshake(label, target, response.statusLine);
    } else {
      stream.destroy();
      attempt.phase = `reconnecting to proxy ${label} to authenticate`;
      stream = await reconnect();
      buffered = Buffer.alloc(0);
      reused = false;
    }
    authorization = next.header;
  }
}

function closedMidHandshake(label: string, target: string, said: string): BurrowError {
  return new BurrowError('auth', `the proxy ${label} closed the connection in the middle of its authentication handshake for CONNECT ${target}`, {
    proxy: label,
    target,
    said,
    phase: 'proxy-auth',
    hint: 'NTLM and Negotiate need every step on one connection; a proxy or load balancer in between that closes it breaks them. Try --proxy-auth basic if the proxy also offers Basic',
  });
}

/**
 * The proxy closed before a complete answer. With no byte at all on a reused connection (`silent`), the caller
 * reconnects: a proxy may drop a kept-alive connection without saying so. SOCKS handshakes use it too (`socks`).
 */
export class ClosedBeforeAnswer extends BurrowError {
  readonly silent: boolean;
  constructor(label: string, target: string, received: number, socks = false) {
    super('refused', `the ${socks ? 'SOCKS ' : ''}proxy ${label} closed the connection before answering CONNECT ${target}${received ? ` (after ${received} bytes of an incomplete answer)` : ''}`, {
      proxy: label,
      target,
      said: 'connection closed',
      phase: 'proxy-handshake',
      hint: socks
        ? 'some proxies hang up on destinations or clients they do not allow; is it a SOCKS proxy of that version (an HTTP proxy needs http://, a SOCKS4 one socks4a://)?'
        : 'some proxies hang up on destinations they do not allow; is it an HTTP proxy at all (a SOCKS proxy needs socks5h://)?',
    });
    this.silent = received === 0;
  }
}

/** Reads one response head; leaves the stream paused with the bytes after the head returned, not consumed. */
function readResponseHead(stream: Duplex, initial: Buffer, label: string, target: string): Promise<{ response: ConnectResponse; rest: Buffer; received: Buffer }> {
  return new Promise((resolve, reject) => {
    let received: Buffer = initial;
    // With bounded reads (connect --fdpass), never read past the blank line: what follows belongs to ssh.
    const unbound = limitReads(stream, () => headReadSize(received));
    const cleanup = () => {
      unbound();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause();
    };
    const fail = (error: BurrowError) => {
      cleanup();
      stream.destroy();
      reject(error);
    };
    const check = (): boolean => {
      if (received.length === 0) return false;
      const result = parseConnectResponse(received);
      if (result.kind === 'incomplete') return false;
      if (result.kind === 'invalid') {
        fail(
          new BurrowError('refused', `the proxy ${label} did not answer CONNECT ${target} like an HTTP proxy: ${result.reason}`, {
            proxy: label,
            target,
            said: result.reason,
            phase: 'proxy-handshake',
            hint: 'check the proxy URL\'s scheme and port (http:// for HTTP proxies, socks5h:// for SOCKS)',
          }),
        );
        return true;
      }
      cleanup();
      resolve({ response: result.response, rest: received.subarray(result.response.headLength), received });
      return true;
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      check();
    };
    const onEnd = () => fail(new ClosedBeforeAnswer(label, target, received.length));
    const onError = (error: NodeJS.ErrnoException) => {
      fail(
        new BurrowError('unreachable', `the connection to the proxy ${label} failed while waiting for its CONNECT answer: ${error.code ?? error.message}`, {
          proxy: label,
          target,
          said: error.code ?? error.message,
          phase: 'proxy-handshake',
          cause: error,
        }),
      );
    };
    if (check()) return; // a pipelined answer already buffered
    // The proxy may have closed while the stream sat paused between rounds: its 'end' has then already been
    // emitted, to nobody, and will not come again.
    if (stream.readableEnded || stream.destroyed) {
      onEnd();
      return;
    }
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    // An earlier hop or round hands the stream over paused (explicitly: a new 'data' listener alone would not start it).
    stream.resume();
  });
}

function withProxyAnswer(error: unknown, response: ConnectResponse): unknown {
  if (!(error instanceof BurrowError) || error.proxyAnswer) return error;
  return withDetails(error, { proxyAnswer: proxyAnswerOf(response) });
}

function refusal(response: ConnectResponse, proxy: ProxyEndpoint, destination: Target): BurrowError {
  const explained = explainConnectRefusal(response, proxy, destination);
  return new BurrowError(explained.kind, explained.message, {
    proxy: displayProxy(proxy),
    target: formatHostPort(destination.host, destination.port),
    said: response.statusLine,
    phase: 'proxy-handshake',
    hint: explained.hint,
    proxyAnswer: proxyAnswerOf(response),
  });
}
