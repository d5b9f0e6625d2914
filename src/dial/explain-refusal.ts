import type { ErrorKind, ProxyAnswer } from '../errors.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import { formatHostPort, type Target } from '../route/target.ts';
import { headerValues, type ConnectResponse } from './parse-connect-response.ts';

export interface Explanation {
  kind: ErrorKind;
  message: string;
  hint: string;
}

export function offeredAuthSchemes(response: ConnectResponse): string[] {
  return headerValues(response, 'proxy-authenticate').map((v) => v.trim().split(/\s+/)[0] ?? v);
}

/** The facts of a non-2xx answer, as data (BurrowError.proxyAnswer): doctor reports them field by field. */
export function proxyAnswerOf(response: ConnectResponse): ProxyAnswer {
  const detail = answerDetail(response);
  return { statusCode: response.statusCode, statusLine: response.statusLine, authSchemes: offeredAuthSchemes(response), ...(detail !== undefined ? { detail } : {}) };
}

/** squid's X-Squid-Error, or the standard Proxy-Status (RFC 9209): the proxy's reason in its own words. */
function answerDetail(response: ConnectResponse): string | undefined {
  return headerValues(response, 'x-squid-error')[0] ?? headerValues(response, 'proxy-status')[0];
}

// Turns a non-2xx CONNECT answer into what the user needs: the proxy's own words, and the likely fix. The 403-to-22
// case is the one users hit most (corporate proxies often allow CONNECT to 443 only, REFERENCE.md §1 and §3).
export function explainConnectRefusal(response: ConnectResponse, proxy: ProxyEndpoint, destination: Target): Explanation {
  const label = displayProxy(proxy);
  const target = formatHostPort(destination.host, destination.port);
  const squidError = headerValues(response, 'x-squid-error')[0];
  const proxyStatus = squidError === undefined ? answerDetail(response) : undefined;
  const detail = squidError ? ` (${squidError})` : proxyStatus ? ` (Proxy-Status: ${proxyStatus})` : '';
  const said = `"${response.statusLine}"${detail}`;
  const status = response.statusCode;

  if (status === 403 || status === 405) {
    const hint =
      destination.port === 443
        ? `the proxy's policy forbids ${destination.host}; check the name, or ask the proxy's administrators to allow it`
        : `many proxies allow CONNECT only to port 443. If ${destination.host} is reachable without the proxy, try NO_PROXY=${formatHostPort(destination.host, destination.port)}; ` +
          `otherwise reach the service on port 443 (a Teleport proxy with TLS routing, or an SSH server listening on 443), or ask the proxy's administrators to allow port ${destination.port}`;
    return { kind: 'refused', message: `the proxy ${label} refused CONNECT ${target}: ${said}`, hint };
  }

  const fromProxy = `the proxy ${label} could not open CONNECT ${target}: ${said}`;
  if (status === 502 || (squidError ?? '').startsWith('ERR_CONNECT_FAIL')) {
    return { kind: 'refused', message: fromProxy, hint: `the proxy could not connect to ${target}: the service is down, the port is wrong, or the proxy cannot route there. \`burrow doctor ${target}\` compares direct and proxied access` };
  }
  if ((squidError ?? '').startsWith('ERR_DNS_FAIL') || status === 503) {
    return { kind: 'refused', message: fromProxy, hint: `the proxy could not resolve or reach ${destination.host}: check the host name (the proxy resolves it, not this machine)` };
  }
  if (status === 504) {
    return { kind: 'refused', message: fromProxy, hint: `the proxy timed out connecting to ${target}: the target may be down or firewalled from the proxy` };
  }
  if (status === 400) {
    return { kind: 'refused', message: `the proxy ${label} rejected the CONNECT request for ${target} as malformed: ${said}`, hint: 'the proxy may not support CONNECT; is it a plain web cache, or a SOCKS proxy (socks5h://)?' };
  }
  return { kind: 'refused', message: `the proxy ${label} refused CONNECT ${target}: ${said}`, hint: 'ask the proxy\'s administrators what it allows; `burrow doctor` shows what is reachable' };
}
