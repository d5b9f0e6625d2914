import { isIP } from 'node:net';
import type { ProxyEndpoint } from '../route/proxy-url.ts';

// What tsh can do with a proxy itself (REFERENCE.md §1): Go's net/http reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY
// (upper case first, never ALL_PROXY); schemes http, https and socks5; Basic auth from the URL's userinfo only.
// Anything else (chains, socks4, socks5h, credentials from ~/.netrc or a prompt, a private CA for an https proxy)
// goes through burrow's bridge instead.

export function tshCannotUse(hops: ProxyEndpoint[], options: { credentialsFromElsewhere?: boolean; privateCa?: boolean }): string | undefined {
  if (hops.length > 1) return `a chain of ${hops.length} proxies (tsh takes one)`;
  const hop = hops[0];
  if (!hop) return undefined;
  if (hop.scheme !== 'http' && hop.scheme !== 'https' && hop.scheme !== 'socks5') return `a ${hop.scheme}:// proxy (tsh speaks http, https and socks5)`;
  if (options.credentialsFromElsewhere) return 'credentials that are not in the proxy URL (tsh reads only the URL)';
  if (hop.scheme === 'https' && options.privateCa) return 'an https:// proxy checked with --proxy-ca/--proxy-insecure (tsh would not trust it)';
  return undefined;
}

/** The proxy as a URL Go parses: scheme, percent-encoded userinfo, bracketed IPv6, explicit port. */
export function goProxyUrl(hop: ProxyEndpoint): string {
  const host = isIP(hop.host) === 6 ? `[${hop.host}]` : hop.host;
  let userinfo = '';
  if (hop.username !== undefined || hop.password !== undefined) {
    userinfo = encodeURIComponent(hop.username ?? '');
    if (hop.password !== undefined) userinfo += `:${encodeURIComponent(hop.password)}`;
    userinfo += '@';
  }
  return `${hop.scheme}://${userinfo}${host}:${hop.port}`;
}

/** NO_PROXY in Go's syntax: burrow already reads it with Go's rules; entries trimmed, "*.d.com" written ".d.com". */
export function goNoProxy(entries: Array<string | undefined>): string {
  const out: string[] = [];
  for (const list of entries) {
    for (const raw of (list ?? '').split(',')) {
      let entry = raw.trim();
      if (entry === '') continue;
      if (entry.startsWith('*.')) entry = entry.slice(1);
      if (!out.includes(entry)) out.push(entry);
    }
  }
  return out.join(',');
}
