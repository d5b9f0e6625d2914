import { request } from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { displayProxy, type ProxyEndpoint } from '../../route/proxy-url.ts';
import type { HttpCheckPathJson } from '../types.ts';
import type { Candidate } from './path.ts';

const REPORTED_HEADERS = ['via', 'server', 'x-squid-error', 'proxy-status', 'location'];

/** The URL http-proxy-agent needs: the proxy with its credentials (they go in Proxy-Authorization, never in output). */
function agentUrl(proxy: ProxyEndpoint): string {
  const auth = proxy.username !== undefined || proxy.password !== undefined ? `${encodeURIComponent(proxy.username ?? '')}:${encodeURIComponent(proxy.password ?? '')}@` : '';
  const host = displayProxy(proxy).replace(/^[a-z0-9]+:\/\//, '');
  return `${proxy.scheme}://${auth}${host}`;
}

/**
 * A plain-HTTP GET of `url`, direct or through one HTTP proxy (absolute-form request, no CONNECT: what a browser or
 * apt does with http:// URLs). SOCKS candidates and chains are skipped: http-proxy-agent speaks to one HTTP proxy.
 */
export function probeHttpCheck(url: URL, candidate: Candidate, signal: AbortSignal): Promise<HttpCheckPathJson> {
  const base = { via: candidate.via, source: candidate.source, status_code: null, status_line: null, headers: {}, error: null };
  const proxy = candidate.hops[0];
  if (candidate.hops.length > 1 || (proxy && proxy.scheme !== 'http' && proxy.scheme !== 'https')) {
    return Promise.resolve({ ...base, status: 'skipped', error: 'plain-HTTP checks go through a single http:// or https:// proxy only' });
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: HttpCheckPathJson) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(result);
    };
    const agent = proxy ? new HttpProxyAgent(agentUrl(proxy)) : undefined;
    const req = request(url, { method: 'GET', headers: { 'User-Agent': 'burrow-doctor', Accept: '*/*' }, ...(agent ? { agent } : {}) }, (res) => {
      const headers: Record<string, string> = {};
      for (const name of REPORTED_HEADERS) {
        const value = res.headers[name];
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      res.resume();
      const code = res.statusCode ?? 0;
      finish({ ...base, status: 'ok', status_code: code, status_line: `HTTP/${res.httpVersion} ${code} ${res.statusMessage ?? ''}`.trimEnd(), headers });
    });
    const onAbort = () => finish({ ...base, status: signal.reason === 'cancelled' ? 'pending' : 'timeout', error: 'no answer in time' });
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ ...base, status: 'failed', error: error.code ?? error.message }));
    req.end();
  });
}
