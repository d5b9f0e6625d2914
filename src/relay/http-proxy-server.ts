import type { Socket } from 'node:net';
import type { ForwardRequest } from '../dial/context.ts';
import type { Connection } from '../dial/dial.ts';
import { BurrowError, isBurrowError } from '../errors.ts';
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
  let hasBody = false;
  if (request.kind === 'forward') {
    const body = requestBody(request.headers);
    if ('error' in body) {
      reader.release();
      record.failure = { reason: `bad request: ${body.error}` };
      await endWith(socket, errorResponse(400, `burrow: ${body.error}`));
      return;
    }
    onlyThisRequest = oneRequestFilter(body);
    hasBody = body.kind !== 'done';
  }

  let connection: Connection;
  try {
    connection = request.kind === 'connect' ? await openTunnel(options.router, request.target, record) : await openForward(options.router, request, hasBody, record);
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
  await relay(socket, connection, rest, ended, record, options, onlyThisRequest);
}

/**
 * Plain HTTP, through dial() like CONNECT: a route that ends at an http:// proxy gets the request absolute-form,
 * with that proxy's credentials and 407 negotiation; any other route (direct, SOCKS, https://) gets it origin-form
 * through a tunnel. Alternatives are tried in order, as for CONNECT.
 */
function openForward(router: Router, request: Extract<HttpProxyRequest, { kind: 'forward' }>, hasBody: boolean, record: ConnectionRecord): Promise<Connection> {
  const forward: ForwardRequest = {
    method: request.method,
    url: request.url.href,
    hasBody,
    proxyHead: (authorization, challengeLeg) => buildForwardHead(request, { proxyAuthorization: authorization, challengeLeg, ...(router.proxyHeaders ? { headers: router.proxyHeaders } : {}) }),
    originHead: () => buildForwardHead(request, undefined),
  };
  return openTunnel(router, request.target, record, { forward });
}

function basicMatches(header: string | undefined, check: (user: string, password: string) => boolean): boolean {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return check(decoded.slice(0, colon), decoded.slice(colon + 1));
}
