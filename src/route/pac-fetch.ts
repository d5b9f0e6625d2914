import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { BurrowError } from '../errors.ts';

// Fetches a PAC file over http(s) — directly, never through a proxy (the PAC is what says which proxy to use, and
// a PAC server normally sits inside the network, where proxies refuse to go) — with a size bound and a time bound
// on the whole exchange, redirects included. With validators from a kept copy (pac-scripts.ts) the GET is
// conditional, and the server may answer 304 Not Modified.

export const PAC_MAX_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;

type Env = Readonly<Record<string, string | undefined>>;

/** What a kept copy can offer the server: If-None-Match and If-Modified-Since (RFC 9110 §13.1). */
export interface PacValidators {
  etag?: string;
  lastModified?: string;
}

/** The final answer (after redirects): the script, or "not modified" (only ever to a conditional request). */
export type PacResponse = { status: 200; text: string; headers: IncomingHttpHeaders } | { status: 304; headers: IncomingHttpHeaders };

export async function fetchPac(location: string, timeoutMs: number, env: Env = process.env, validators: PacValidators = {}, maxBytes = PAC_MAX_BYTES): Promise<PacResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const conditional = {
    ...(validators.etag !== undefined ? { 'if-none-match': validators.etag } : {}),
    ...(validators.lastModified !== undefined ? { 'if-modified-since': validators.lastModified } : {}),
  };
  try {
    let url = new URL(location);
    for (let redirects = 0; ; redirects++) {
      // Sent on every hop: the validators belong to whatever the redirects end at, and a redirect ignores them.
      const response = await get(url, conditional, controller.signal, location, timeoutMs, env);
      const status = response.statusCode ?? 0;
      if (status === 304 && Object.keys(conditional).length > 0) {
        response.destroy();
        return { status: 304, headers: response.headers };
      }
      if (status >= 300 && status < 400 && response.headers.location) {
        response.destroy();
        if (redirects >= MAX_REDIRECTS) throw pacError(location, `more than ${MAX_REDIRECTS} redirects`);
        url = new URL(response.headers.location, url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw pacError(location, `a redirect to ${url.protocol}// (only http and https are fetched)`);
        continue;
      }
      if (status !== 200) {
        response.destroy();
        throw pacError(location, `the server answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`);
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        response.destroy();
        throw pacError(location, `it is ${declared} bytes, more than the ${maxBytes} burrow accepts`);
      }
      return { status: 200, text: await readBody(response, maxBytes, location, controller.signal, timeoutMs), headers: response.headers };
    }
  } finally {
    clearTimeout(timer);
  }
}

async function get(url: URL, conditional: Record<string, string>, signal: AbortSignal, location: string, timeoutMs: number, env: Env): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw pacError(location, `the scheme ${url.protocol}// is not fetched (http, https or a file)`);
  // Lazy: only a PAC URL needs node:http / node:https.
  const https = url.protocol === 'https:';
  const { request } = https ? await import('node:https') : await import('node:http');
  // An https:// PAC URL is checked against burrow's trust store (the system's CAs too: PAC servers are internal).
  const tls = https ? { secureContext: (await import('../trust/trust-store.ts')).trustStore(env).secureContext } : {};
  return new Promise((resolve, reject) => {
    // agent: false — a fresh connection, never a proxy from the environment.
    const req = request(url, { method: 'GET', agent: false, signal, headers: { accept: 'application/x-ns-proxy-autoconfig, */*', ...conditional }, ...tls }, resolve);
    req.on('error', (error: NodeJS.ErrnoException) => {
      reject(signal.aborted ? timeout(location, timeoutMs) : pacError(location, error.code ? `${error.code} (${error.message})` : error.message, 'unreachable'));
    });
    req.end();
  });
}

function readBody(response: IncomingMessage, maxBytes: number, location: string, signal: AbortSignal, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Settle first: destroying the response emits its own events, synchronously on some Node versions.
        reject(pacError(location, `it is more than the ${maxBytes} bytes burrow accepts`));
        response.destroy();
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    response.on('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    response.on('close', () => {
      if (!ended) reject(signal.aborted ? timeout(location, timeoutMs) : pacError(location, 'the connection closed before the end of the file', 'unreachable'));
    });
    response.on('error', () => reject(signal.aborted ? timeout(location, timeoutMs) : pacError(location, 'the connection broke while reading it', 'unreachable')));
    response.on('aborted', () => reject(signal.aborted ? timeout(location, timeoutMs) : pacError(location, 'the connection broke while reading it', 'unreachable')));
  });
}

function timeout(location: string, ms: number): BurrowError {
  return pacError(location, `no complete answer within ${ms / 1000} s`, 'unreachable');
}

export function pacError(location: string, why: string, kind: 'usage' | 'unreachable' = 'usage'): BurrowError {
  return new BurrowError(kind, `cannot load the PAC file ${location}: ${why}`, {
    hint: 'check --pac, BURROW_PAC or pac: in the config file; burrow fetches a PAC URL directly, without a proxy (timeouts.pac in the config sets the limit)',
  });
}
