import type { Duplex } from 'node:stream';
import { BurrowError } from '../errors.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import { formatHostPort } from '../route/target.ts';
import { registerSecret } from '../secrets.ts';
import { VERSION } from '../version.ts';
import type { DialAttempt } from './context.ts';
import { explainConnectRefusal } from './explain-refusal.ts';
import { parseConnectResponse, type ConnectResponse } from './parse-connect-response.ts';

export interface Destination {
  host: string;
  port: number;
}

export function buildConnectRequest(destination: Destination, proxy: ProxyEndpoint): string {
  const authority = formatHostPort(destination.host, destination.port);
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`, `User-Agent: burrow/${VERSION}`];
  const authorization = basicAuthorization(proxy);
  if (authorization) lines.push(`Proxy-Authorization: ${authorization}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

// Basic credentials go up front, as tsh and curl send them: one round trip instead of a 407 first.
function basicAuthorization(proxy: ProxyEndpoint): string | undefined {
  if (proxy.username === undefined && proxy.password === undefined) return undefined;
  const token = Buffer.from(`${proxy.username ?? ''}:${proxy.password ?? ''}`, 'utf8').toString('base64');
  registerSecret(token);
  return `Basic ${token}`;
}

/**
 * Asks an HTTP proxy, over `stream`, to CONNECT to `destination`. Resolves with the same stream once the proxy
 * answers 2xx, paused, with any bytes that arrived behind the answer (an SSH banner often shares the packet with
 * the 200) pushed back so that the tunnel's reader sees them first.
 */
export function httpConnect(stream: Duplex, destination: Destination, proxy: ProxyEndpoint, attempt: DialAttempt): Promise<Duplex> {
  const label = displayProxy(proxy);
  const target = formatHostPort(destination.host, destination.port);
  attempt.phase = `waiting for proxy ${label} to answer CONNECT ${target}`;
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const fail = (error: BurrowError) => {
      cleanup();
      stream.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const result = parseConnectResponse(received);
      if (result.kind === 'incomplete') return;
      if (result.kind === 'invalid') {
        fail(
          new BurrowError('refused', `the proxy ${label} did not answer CONNECT ${target} like an HTTP proxy: ${result.reason}`, {
            proxy: label,
            target,
            said: result.reason,
            hint: 'check the proxy URL\'s scheme and port (http:// for HTTP proxies, socks5h:// for SOCKS)',
          }),
        );
        return;
      }
      const response = result.response;
      if (response.statusCode >= 200 && response.statusCode < 300) {
        cleanup();
        stream.pause();
        const rest = received.subarray(response.headLength);
        if (rest.length > 0) stream.unshift(rest);
        attempt.options.log.debug('proxy accepted CONNECT', { proxy: label, target, status: response.statusLine, early_bytes: rest.length });
        resolve(stream);
        return;
      }
      fail(refusal(response, proxy, destination));
    };
    const onEnd = () => {
      fail(
        new BurrowError('refused', `the proxy ${label} closed the connection before answering CONNECT ${target}${received.length ? ` (after ${received.length} bytes of an incomplete answer)` : ''}`, {
          proxy: label,
          target,
          said: 'connection closed',
          hint: 'some proxies hang up on destinations they do not allow; is it an HTTP proxy at all (a SOCKS proxy needs socks5h://)?',
        }),
      );
    };
    const onError = (error: NodeJS.ErrnoException) => {
      fail(
        new BurrowError('unreachable', `the connection to the proxy ${label} failed while waiting for its CONNECT answer: ${error.code ?? error.message}`, {
          proxy: label,
          target,
          said: error.code ?? error.message,
          cause: error,
        }),
      );
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    // An earlier hop hands the stream over paused (explicitly, so a new 'data' listener alone would not start it).
    stream.resume();
    stream.write(buildConnectRequest(destination, proxy));
  });
}

function refusal(response: ConnectResponse, proxy: ProxyEndpoint, destination: Destination): BurrowError {
  const explained = explainConnectRefusal(response, proxy, destination);
  return new BurrowError(explained.kind, explained.message, {
    proxy: displayProxy(proxy),
    target: formatHostPort(destination.host, destination.port),
    said: response.statusLine,
    hint: explained.hint,
    proxyAnswer: {
      statusCode: response.statusCode,
      statusLine: response.statusLine,
      authSchemes: explained.authSchemes,
      ...(explained.detail !== undefined ? { detail: explained.detail } : {}),
    },
  });
}
