import { isIP } from 'node:net';
import { usageError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';
import { hostNameToAscii } from './host-name.ts';
import { formatHostPort, printable } from './target.ts';

export const PROXY_SCHEMES = ['http', 'https', 'socks4', 'socks4a', 'socks5', 'socks5h'] as const;
export type ProxyScheme = (typeof PROXY_SCHEMES)[number];

export interface ProxyEndpoint {
  scheme: ProxyScheme;
  /** Name or IP literal, IPv6 without brackets. */
  host: string;
  port: number;
  /** Percent-decoded userinfo. */
  username?: string;
  password?: string;
  /** True when the text had no scheme and was read as http:// (Go and curl do the same). */
  schemeless: boolean;
}

// Go's net/http uses these when a proxy URL has no port (x/net/http/httpproxy via canonicalAddr); so does tsh.
const DEFAULT_PORTS: Record<ProxyScheme, number> = {
  http: 80,
  https: 443,
  socks4: 1080,
  socks4a: 1080,
  socks5: 1080,
  socks5h: 1080,
};

export function parseProxyUrl(input: string, origin = 'proxy URL'): ProxyEndpoint {
  const text = input.trim();
  if (text === '') throw usageError(`${origin} is empty`);
  const schemeless = !/^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  let url: URL;
  try {
    url = new URL(schemeless ? `http://${text}` : text);
  } catch {
    throw usageError(`${origin} "${withoutUserinfo(text)}" is not a valid URL`, 'write it as SCHEME://[USER:PASSWORD@]HOST:PORT, e.g. http://proxy.corp:3128');
  }
  if (/@/.test(url.pathname + url.search + url.hash)) {
    // "http://user:pa/ss@proxy" parses as host "user", port "pa"... : a password with an unencoded "/", "?" or "#".
    throw usageError(`${origin} "${withoutUserinfo(text)}" looks like a password with an unencoded "/", "?" or "#"`, 'percent-encode them in the password: "/" is %2F, "?" is %3F, "#" is %23');
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!isProxyScheme(scheme)) {
    throw usageError(
      `${origin} has the scheme "${scheme}", which burrow does not speak`,
      `use one of ${PROXY_SCHEMES.join(', ')}${scheme === 'socks' ? ' (socks5h:// lets the proxy resolve names)' : ''}`,
    );
  }
  let host = url.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw usageError(`${origin} "${withoutUserinfo(text)}" has no host`);
  if (isIP(host) === 0) {
    // socks URLs keep their host as written, percent-encoded (WHATWG: an opaque host); http(s) ones are already
    // decoded and in IDNA form. Either way the name must convert: a proxy that cannot be named is a usage error.
    const written = decodedOrUndefined(host);
    const name = written === undefined ? undefined : hostNameToAscii(written);
    if (name === undefined) {
      throw usageError(`${origin} has the host "${printable(written ?? host)}", which is not a valid host name`, 'a host name is letters, digits, "-" and "." (Unicode letters are converted to IDNA); an IPv6 address goes in brackets, e.g. http://[fd00::1]:3128');
    }
    host = name;
  }
  const port = url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port);
  if (port < 1 || port > 65535) throw usageError(`${origin} has port ${url.port}, outside 1-65535`);

  const endpoint: ProxyEndpoint = { scheme, host, port, schemeless };
  if (url.username !== '') endpoint.username = decodeUserinfo(url.username, origin);
  if (url.password !== '') {
    endpoint.password = decodeUserinfo(url.password, origin);
    registerSecret(endpoint.password);
    registerSecret(url.password);
  }
  return endpoint;
}

function decodedOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function isProxyScheme(value: string): value is ProxyScheme {
  return (PROXY_SCHEMES as readonly string[]).includes(value);
}

function decodeUserinfo(value: string, origin: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw usageError(`${origin} has a badly percent-encoded user name or password`, 'encode "%" itself as %25');
  }
  // A decoded CR or LF would end up inside a Proxy-Authorization (Digest quotes the user name as is).
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw usageError(`${origin} has a control character in its user name or password`);
  return decoded;
}

/** The proxy as it may be shown anywhere: scheme://host:port, never credentials. */
export function displayProxy(proxy: ProxyEndpoint): string {
  return `${proxy.scheme}://${formatHostPort(proxy.host, proxy.port)}`;
}

/**
 * A route's hops for people, first hop first: "direct" when there are none. `joiner` is " -> " in tables and logs,
 * " then " inside a sentence (a route's reason).
 */
export function formatHops(hops: ProxyEndpoint[], joiner: ' -> ' | ' then ' = ' -> '): string {
  return hops.length === 0 ? 'direct' : hops.map(displayProxy).join(joiner);
}

export function hasCredentials(proxy: ProxyEndpoint): boolean {
  return proxy.username !== undefined || proxy.password !== undefined;
}

/** For messages about text that failed to parse: strip anything that looks like userinfo. */
export function withoutUserinfo(text: string): string {
  // Up to the last "@": a password may itself contain "@" or "/" when the user forgot to percent-encode it.
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
}
