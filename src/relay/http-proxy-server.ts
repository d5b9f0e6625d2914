import type { Socket } from 'node:net';
import { basicAuthorization } from '../dial/auth/session.ts';
import { withPlanCredentials } from '../credentials/config.ts';
import { withCredentials } from '../credentials/lookup.ts';
import { describeHops, type Connection } from '../dial/dial.ts';
import { BurrowError, isBurrowError } from '../errors.ts';
import type { RoutePlan } from '../route/plan.ts';
import { formatTarget } from '../route/target.ts';
import { ReadError, type ByteReader } from './byte-reader.ts';
import {
  MAX_REQUEST_HEAD,
  buildForwardHead,
  errorResponse,
  headerValue,
  httpStatusFor,
  parseProxyRequestHead,
  type HttpProxyRequest,
} from './http-proxy-request.ts';
import { openTunnel, type ConnectionRecord, type Router } from './listener.ts';
import { oneRequestFilter, requestBody } from './request-body.ts';
import { endWith, relay, type Served } from './serve.ts';

// The HTTP side of the local proxy (`burrow forward --http`, the exec bridge): CONNECT, and absolute-form plain
// HTTP forwarded one request per client connection. The request head is parsed by http-proxy-request.ts.

export async function serveHttp(socket: Socket, reader: ByteReader, record: ConnectionRecord, options: Served): Promise<void> {
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

  // Plain HTTP: one request per client connection. Its body is passed on by its framing; what the client sends
  // after it (a pipelined request, which could carry this proxy's own credentials) is dropped.
  let onlyThisRequest: ((chunk: Buffer) => Buffer) | undefined;
  if (request.kind === 'forward') {
    const body = requestBody(request.headers);
    if ('error' in body) {
      reader.release();
      record.failure = { reason: `bad request: ${body.error}` };
      await endWith(socket, errorResponse(400, `burrow: ${body.error}`));
      return;
    }
    onlyThisRequest = oneRequestFilter(body);
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
  await relay(socket, connection, rest, ended, record, options, onlyThisRequest);
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
    plan = withPlanCredentials(await router.route(request.target), router.env ?? process.env);
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
    // Credentials missing from the proxy URL come from ~/.netrc or BURROW_PROXY_USER, as for CONNECT (dial()).
    const { proxy } = withCredentials(last, router.env ?? process.env);
    const authorization = proxy.username !== undefined || proxy.password !== undefined
      ? basicAuthorization({ username: proxy.username ?? '', password: proxy.password ?? '' })
      : undefined;
    return { connection, head: buildForwardHead(request, authorization ? { proxyAuthorization: authorization } : {}) };
  } catch (error) {
    const burrowError = isBurrowError(error) ? error : new BurrowError('internal', String(error));
    record.failure = { reason: burrowError.message, error: burrowError };
    throw burrowError;
  }
}

function basicMatches(header: string | undefined, check: (user: string, password: string) => boolean): boolean {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return check(decoded.slice(0, colon), decoded.slice(colon + 1));
}
