import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { BurrowError, isBurrowError } from '../errors.ts';
import type { Log } from '../log.ts';
import type { RoutePlan } from '../route/plan.ts';
import type { ProxyEndpoint } from '../route/proxy-url.ts';
import { formatTarget } from '../route/target.ts';
import { registerSecret } from '../secrets.ts';
import { describeHops } from '../dial/dial.ts';
import { createByteReader, ReadError, type ByteReader } from './byte-reader.ts';
import type { ListenAddress } from './forward-spec.ts';
import {
  MAX_REQUEST_HEAD,
  buildForwardHead,
  errorResponse,
  headerValue,
  httpStatusFor,
  parseProxyRequestHead,
  type HttpProxyRequest,
} from './http-proxy-request.ts';
import { openTunnel, startListener, type ConnectionLimits, type ConnectionRecord, type RunningListener, type Router } from './listener.ts';
import { socks4Reply, socksHandshake, type Credentials } from './socks-server.ts';
import { splice } from './splice.ts';
import type { Connection } from '../dial/dial.ts';

// The local proxies of `burrow forward -D` (SOCKS5, SOCKS4/4a) and `--http` (CONNECT and absolute-form plain
// HTTP). Each request is routed on its own (resolveRoute + dial), so NO_PROXY, chains and PAC rules apply per
// target. A listener may speak both protocols (told apart by the first byte): `burrow exec` can start one in-process
// on 127.0.0.1:0 with randomCredentials() and point HTTPS_PROXY and ALL_PROXY at it.

export type ProxyProtocol = 'socks' | 'http';

export interface ProxyServerOptions {
  /** "-D 1080", "--http 3128", "exec bridge": for the log. */
  name: string;
  listen: ListenAddress;
  protocols: ProxyProtocol[];
  router: Router;
  log: Log;
  limits: ConnectionLimits;
  /** Required credentials. Without them only loopback clients are served. */
  auth?: Credentials;
  /** Bound on reading one request (greeting, auth, request head). Default 10 s. */
  handshakeTimeoutMs?: number;
  idleTimeoutMs?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** A random user and password for a per-run bridge proxy (`burrow exec`), registered as secrets. */
export function randomCredentials(): Credentials {
  const credentials = { user: 'burrow', password: randomBytes(18).toString('base64url') };
  registerSecret(credentials.password);
  return credentials;
}

export function startProxyServer(options: ProxyServerOptions): Promise<RunningListener> {
  if (options.auth) registerSecret(options.auth.password);
  const checkCredentials = credentialChecker(options.auth);
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  return startListener({
    name: options.name,
    listen: options.listen,
    log: options.log,
    limits: options.limits,
    handle: async (socket, record) => {
      const reader = createByteReader(socket, timeoutMs);
      const clientAllowed = record.clientIsLoopback || options.auth !== undefined;
      try {
        const first = await reader.peek();
        const isSocks = first === 0x04 || first === 0x05;
        if (isSocks && options.protocols.includes('socks')) {
          record.protocol = first === 0x05 ? 'socks5' : 'socks4';
          await serveSocks(socket, reader, record, { ...options, clientAllowed, checkCredentials });
        } else if (!isSocks && options.protocols.includes('http')) {
          record.protocol = 'http';
          await serveHttp(socket, reader, record, { ...options, clientAllowed, checkCredentials });
        } else {
          reader.release();
          record.failure = { reason: `not a ${options.protocols.join(' or ')} request (first byte 0x${first.toString(16).padStart(2, '0')})` };
          if (!isSocks && options.protocols.includes('socks')) {
            // Someone pointed an HTTP client at the SOCKS port: say so in their language.
            await endWith(socket, errorResponse(400, `burrow: this port (${options.name}) is a SOCKS proxy, not an HTTP proxy`));
          }
        }
      } catch (error) {
        reader.release();
        if (error instanceof ReadError) record.failure ??= { reason: `bad request: ${error.message}` };
        else throw error;
      }
    },
  });
}

interface Served extends ProxyServerOptions {
  clientAllowed: boolean;
  checkCredentials: (user: string, password: string) => boolean;
}

async function serveSocks(socket: Socket, reader: ByteReader, record: ConnectionRecord, options: Served): Promise<void> {
  let outcome;
  try {
    outcome = await socksHandshake(reader, (data) => socket.write(data), {
      ...(options.auth ? { auth: options.auth } : {}),
      clientAllowed: options.clientAllowed,
      checkCredentials: options.checkCredentials,
    });
  } catch (error) {
    // A SOCKS4 user id or host name without its NUL: a request we will not read to the end. Say no.
    if (error instanceof ReadError && error.reason === 'too-long' && record.protocol === 'socks4') {
      reader.release();
      record.failure = { reason: `bad request: SOCKS4 ${error.message}` };
      await endWith(socket, socks4Reply(false));
      return;
    }
    throw error;
  }
  if (outcome.kind === 'refused') {
    reader.release();
    record.failure = { reason: outcome.reason };
    if (outcome.reply) await endWith(socket, outcome.reply);
    return;
  }
  record.target = formatTarget(outcome.target);
  let connection: Connection;
  try {
    connection = await openTunnel(options.router, outcome.target, record);
  } catch (error) {
    reader.release();
    await endWith(socket, outcome.reply(error as BurrowError));
    return;
  }
  const { rest, ended } = reader.release();
  socket.write(outcome.reply());
  await relay(socket, connection, rest, ended, record, options);
}

async function serveHttp(socket: Socket, reader: ByteReader, record: ConnectionRecord, options: Served): Promise<void> {
  let headBytes: Buffer;
  try {
    headBytes = await reader.readUntil('\r\n\r\n', MAX_REQUEST_HEAD);
  } catch (error) {
    if (error instanceof ReadError && error.reason === 'too-long') {
      reader.release();
      record.failure = { reason: `request head larger than ${MAX_REQUEST_HEAD} bytes` };
      await endWith(socket, errorResponse(431, `burrow: request head larger than ${MAX_REQUEST_HEAD} bytes`));
      return;
    }
    throw error;
  }
  const parsed = parseProxyRequestHead(headBytes.toString('latin1'));
  if (!parsed.ok) {
    reader.release();
    record.failure = { reason: `bad request: ${parsed.reason}` };
    await endWith(socket, errorResponse(parsed.status, `burrow: ${parsed.reason}`));
    return;
  }
  const request = parsed.request;
  record.target = formatTarget(request.target);
  if (!options.clientAllowed) {
    reader.release();
    record.failure = { reason: 'client not allowed: only loopback clients are served without --auth' };
    await endWith(socket, errorResponse(403, 'burrow: only clients on this machine are served without --auth'));
    return;
  }
  if (options.auth && !basicMatches(headerValue(request.headers, 'proxy-authorization'), options.checkCredentials)) {
    reader.release();
    record.failure = { reason: headerValue(request.headers, 'proxy-authorization') ? 'proxy authentication failed' : 'proxy authentication required' };
    await endWith(socket, errorResponse(407, 'burrow: proxy authentication required', ['Proxy-Authenticate: Basic realm="burrow"']));
    return;
  }

  let connection: Connection;
  let head: string | undefined;
  try {
    if (request.kind === 'connect') {
      connection = await openTunnel(options.router, request.target, record);
    } else {
      ({ connection, head } = await openForward(options.router, request, record));
    }
  } catch (error) {
    reader.release();
    const burrowError = isBurrowError(error) ? error : new BurrowError('internal', String(error));
    await endWith(
      socket,
      errorResponse(httpStatusFor(burrowError), `burrow: ${burrowError.message}${burrowError.hint ? `\nhint: ${burrowError.hint}` : ''}`, [`X-Burrow-Error: ${burrowError.kind}`]),
    );
    return;
  }
  const { rest, ended } = reader.release();
  if (request.kind === 'connect') socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
  else connection.stream.write(head!);
  await relay(socket, connection, rest, ended, record, options);
}

/**
 * Plain HTTP: through an upstream HTTP proxy the request goes absolute-form with that proxy's credentials (the
 * way browsers talk to it; many proxies allow CONNECT only to 443); direct, through SOCKS or an https:// proxy it
 * goes origin-form through a tunnel to the server.
 */
async function openForward(
  router: Router,
  request: Extract<HttpProxyRequest, { kind: 'forward' }>,
  record: ConnectionRecord,
): Promise<{ connection: Connection; head: string }> {
  let plan: RoutePlan;
  try {
    plan = await router.route(request.target);
  } catch (error) {
    if (isBurrowError(error)) record.failure = { reason: error.message, error };
    throw error;
  }
  const alternative = plan.alternatives[0];
  const last = alternative?.hops[alternative.hops.length - 1];
  if (!alternative || !last || last.scheme !== 'http') {
    const connection = await openTunnel(router, request.target, record);
    return { connection, head: buildForwardHead(request, undefined) };
  }
  // Reach the upstream proxy itself (through the hops before it, if any), then speak HTTP to it.
  const toProxy: RoutePlan = {
    target: { host: last.host, port: last.port },
    alternatives: [{ ...alternative, hops: alternative.hops.slice(0, -1) }],
    warnings: [],
  };
  record.route = describeHops(alternative.hops);
  try {
    const connection = await router.dial(toProxy);
    const authorization = basicAuthorization(last);
    return { connection, head: buildForwardHead(request, authorization ? { proxyAuthorization: authorization } : {}) };
  } catch (error) {
    const burrowError = isBurrowError(error) ? error : new BurrowError('internal', String(error));
    record.failure = { reason: burrowError.message, error: burrowError };
    throw burrowError;
  }
}

function basicAuthorization(proxy: ProxyEndpoint): string | undefined {
  if (proxy.username === undefined && proxy.password === undefined) return undefined;
  const token = Buffer.from(`${proxy.username ?? ''}:${proxy.password ?? ''}`, 'utf8').toString('base64');
  registerSecret(token);
  return `Basic ${token}`;
}

async function relay(socket: Socket, connection: Connection, rest: Buffer, clientEnded: boolean, record: ConnectionRecord, options: Served): Promise<void> {
  if (socket.destroyed) {
    connection.stream.destroy();
    record.failure = { reason: 'the client left before the tunnel opened' };
    return;
  }
  if (rest.length > 0) connection.stream.write(rest);
  if (clientEnded) connection.stream.end();
  record.splice = splice(socket, connection.stream, options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {});
  const result = await record.splice.done;
  record.result = { ...result, aToB: result.aToB + rest.length };
}

/**
 * Writes a final answer and closes. What the client still sends is read and dropped until it closes (closing with
 * unread bytes would send a RST that can destroy the answer in flight); bounded to 2 s.
 */
function endWith(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, 2000);
    timer.unref();
    socket.once('end', done);
    socket.once('close', done);
    if (socket.readableEnded) socket.end(data, done);
    else socket.end(data);
    socket.resume();
  });
}

function credentialChecker(auth: Credentials | undefined): (user: string, password: string) => boolean {
  if (!auth) return () => true;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  const expectedUser = digest(auth.user);
  const expectedPassword = digest(auth.password);
  return (user, password) => {
    // Both compared, in constant time, whatever the first answer.
    const userOk = timingSafeEqual(digest(user), expectedUser);
    const passwordOk = timingSafeEqual(digest(password), expectedPassword);
    return userOk && passwordOk;
  };
}

function basicMatches(header: string | undefined, check: (user: string, password: string) => boolean): boolean {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return check(decoded.slice(0, colon), decoded.slice(colon + 1));
}
