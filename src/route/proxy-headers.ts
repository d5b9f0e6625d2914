import { usageError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';
import { printable } from './target.ts';

// Extra request headers for the proxy (--proxy-header 'Name: value', `headers:` in the config file): some proxies
// admit only certain User-Agents (proxytunnel -H, golang/go#26188, REFERENCE.md §6). They go with every CONNECT and
// every plain-HTTP request burrow sends to a proxy. Validated here, once, before anything reaches the wire: a CR or
// LF in a value would let it smuggle headers (or a whole request). Values that look like credentials are registered
// as secrets (the logger masks them) and shown as "***" wherever burrow describes the headers.

export interface ProxyHeader {
  name: string;
  value: string;
}

// RFC 9110 §5.6.2 token characters.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Headers burrow writes itself (framing, the target, its own authentication): not to be replaced from outside.
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'proxy-connection', 'proxy-authorization']);

/** "Name: value" -> a header, or a usage error naming `origin` (e.g. "--proxy-header", "headers: in FILE:LINE"). */
export function parseProxyHeader(text: string, origin: string): ProxyHeader {
  const colon = text.indexOf(':');
  if (colon <= 0) throw usageError(`${origin} "${printable(text)}" is not "Name: value"`, 'write it as --proxy-header \'User-Agent: Mozilla/5.0\'');
  return checkProxyHeader(text.slice(0, colon).trim(), text.slice(colon + 1).trim(), origin);
}

export function checkProxyHeader(name: string, value: string, origin: string): ProxyHeader {
  if (!TOKEN.test(name)) throw usageError(`${origin}: the header name "${printable(name)}" is not an HTTP token`, 'header names are letters, digits and !#$%&\'*+.^_`|~-');
  // Tab is allowed inside a value (RFC 9110 §5.5); every other control character, CR and LF above all, is not.
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) throw usageError(`${origin}: the value of ${name} contains a line break or another control character`, 'a header value is one line of text');
  if (RESERVED.has(name.toLowerCase())) {
    throw usageError(`${origin}: burrow writes ${name} itself`, name.toLowerCase() === 'proxy-authorization' ? 'give credentials in the proxy URL, ~/.netrc or BURROW_PROXY_USER/BURROW_PROXY_PASSWORD' : 'leave it out');
  }
  if (looksLikeCredential(name, value)) registerSecret(value);
  return { name, value };
}

/** A header whose value is better kept out of logs: a token, a key, a cookie, an authorization. */
export function looksLikeCredential(name: string, value: string): boolean {
  return /auth|token|key|secret|pass|cookie|session|credential|signature/i.test(name) || /^(basic|bearer|negotiate|ntlm|digest)\s/i.test(value);
}

/** For logs and messages: names with their values, credential-like values as "***". */
export function describeProxyHeaders(headers: readonly ProxyHeader[]): string {
  return headers.map((h) => `${h.name}: ${looksLikeCredential(h.name, h.value) ? '***' : h.value}`).join(', ');
}

/** Later headers replace earlier ones of the same name (the command line's replace the config file's). */
export function mergeProxyHeaders(...lists: Array<readonly ProxyHeader[] | undefined>): ProxyHeader[] {
  const merged = new Map<string, ProxyHeader>();
  for (const list of lists) for (const header of list ?? []) merged.set(header.name.toLowerCase(), header);
  return [...merged.values()];
}
