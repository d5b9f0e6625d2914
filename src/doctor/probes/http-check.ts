import type { Duplex } from 'node:stream';
import { dial, type DialOptions } from '../../dial/dial.ts';
import { headerValues, parseConnectResponse, type ConnectResponse } from '../../dial/parse-connect-response.ts';
import { isBurrowError } from '../../errors.ts';
import { makeTarget } from '../../route/target.ts';
import { buildForwardHead, type HttpProxyRequest } from '../../relay/http-proxy-request.ts';
import type { HttpCheckPathJson } from '../types.ts';
import type { Candidate } from './path.ts';

const REPORTED_HEADERS = ['via', 'server', 'x-squid-error', 'proxy-status', 'location'];

/**
 * A plain-HTTP GET of `url` along one candidate, with the same dial() as `burrow forward --http`: absolute-form to a
 * last http:// proxy (with its credentials and 407 negotiation), else origin-form through the tunnel (direct, SOCKS,
 * chains). Only the answer's head is read.
 */
export async function probeHttpCheck(url: URL, candidate: Candidate, options: DialOptions, signal: AbortSignal): Promise<HttpCheckPathJson> {
  const base = { via: candidate.via, source: candidate.source, status_code: null, status_line: null, headers: {}, error: null };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const request: Extract<HttpProxyRequest, { kind: 'forward' }> = {
    kind: 'forward',
    method: 'GET',
    url,
    target: makeTarget(host, url.port === '' ? 80 : Number(url.port)),
    headers: [['User-Agent', 'burrow-doctor'], ['Accept', '*/*']],
    version: '1.1',
  };
  const plan = { target: request.target, alternatives: [{ hops: candidate.hops, source: { kind: 'probe' as const, text: candidate.source }, reason: 'doctor --http-check' }], warnings: [] };
  let stream: Duplex;
  try {
    ({ stream } = await dial(plan, {
      ...options,
      signal,
      forward: {
        method: 'GET',
        url: url.href,
        hasBody: false,
        proxyHead: (authorization, challengeLeg) => buildForwardHead(request, { proxyAuthorization: authorization, challengeLeg }),
        originHead: () => buildForwardHead(request, undefined),
      },
    }));
  } catch (error) {
    if (signal.aborted) return { ...base, status: signal.reason === 'cancelled' ? 'pending' : 'timeout', error: 'no answer in time' };
    if (!isBurrowError(error)) throw error;
    return { ...base, status: 'failed', error: error.said ?? error.message };
  }
  try {
    const head = await readHead(stream, signal);
    if (head === 'aborted') return { ...base, status: signal.reason === 'cancelled' ? 'pending' : 'timeout', error: 'no answer in time' };
    if (typeof head === 'string') return { ...base, status: 'failed', error: head };
    const headers: Record<string, string> = {};
    for (const name of REPORTED_HEADERS) {
      const values = headerValues(head, name);
      if (values.length > 0) headers[name] = values.join(', ');
    }
    return { ...base, status: 'ok', status_code: head.statusCode, status_line: head.statusLine, headers };
  } finally {
    stream.destroy();
  }
}

/** The answer's head, an error text, or 'aborted' when the probe's time ran out first. */
function readHead(stream: Duplex, signal: AbortSignal): Promise<ConnectResponse | string> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const done = (value: ConnectResponse | string) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const result = parseConnectResponse(received);
      if (result.kind === 'complete') done(result.response);
      else if (result.kind === 'invalid') done(`not an HTTP answer: ${result.reason}`);
    };
    const onEnd = () => done('the connection closed before an answer');
    const onError = (error: NodeJS.ErrnoException) => done(error.code ?? error.message);
    const onAbort = () => done('aborted');
    if (signal.aborted) return done('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.resume();
  });
}
