import type { ProxyAuthFact } from '../dial/context.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import { bracketHost } from '../route/target.ts';

// What tsh can do with a proxy itself (REFERENCE.md §1, §6): Go's net/http reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY
// (upper case first, never ALL_PROXY); schemes http, https and socks5; Basic auth from the URL's userinfo only, sent
// up front, and any other answer (a 407 asking for NTLM, Negotiate or Digest) is an error. Anything else (chains,
// socks4, socks5h, credentials from ~/.netrc or a prompt, a private CA for an https proxy, a proxy that demanded
// more than Basic when burrow dialed it) goes through burrow's bridge instead. socks5 does too, by default:
// `tsh login` over socks5 has failed for users (teleport#12220), and the bridge costs nothing that matters.

export function tshCannotUse(hops: ProxyEndpoint[], options: { credentialsFromElsewhere?: boolean; privateCa?: boolean }): string | undefined {
  if (hops.length > 1) return `a chain of ${hops.length} proxies (tsh takes one)`;
  const hop = hops[0];
  if (!hop) return undefined;
  if (hop.scheme !== 'http' && hop.scheme !== 'https' && hop.scheme !== 'socks5') return `a ${hop.scheme}:// proxy (tsh speaks http, https and socks5)`;
  if (hop.scheme === 'socks5') return 'a socks5:// proxy (bridged by default: tsh login over socks5 has failed for users, teleport#12220)';
  if (options.credentialsFromElsewhere) return 'credentials that are not in the proxy URL (tsh reads only the URL)';
  if (hop.scheme === 'https' && options.privateCa) return 'an https:// proxy checked with --proxy-ca/--proxy-insecure (tsh would not trust it)';
  return undefined;
}

const SCHEME_NAMES = { none: 'no authentication', basic: 'Basic', digest: 'Digest', ntlm: 'NTLM', negotiate: 'Negotiate' } as const;

/**
 * Whether tsh can talk to `hop` itself, from what the proxy demanded when burrow last dialed it (undefined: it can;
 * else why not). tsh sends Basic from the URL up front or nothing, so only a proxy seen accepting that qualifies.
 */
export function tshCannotAuthenticate(hop: ProxyEndpoint, seen: Pick<ProxyAuthFact, 'scheme'> | undefined, why: string): string | undefined {
  if (hop.scheme !== 'http' && hop.scheme !== 'https') return undefined;
  if (!seen) return `a proxy burrow has not seen accept a request the way tsh makes it (${why})`;
  if (seen.scheme === 'none' || seen.scheme === 'basic') return undefined;
  return `a proxy that asked for ${SCHEME_NAMES[seen.scheme]} when burrow dialed ${displayProxy(hop)} (tsh sends only Basic from the URL)`;
}

/** The passthrough's reason: what burrow saw the proxy accept. */
export function describeSeenAuth(seen: Pick<ProxyAuthFact, 'scheme'>): string {
  return seen.scheme === 'none' ? 'it asked burrow for no authentication' : 'it accepted Basic, which tsh sends from the URL up front (in clear to an http:// proxy)';
}

/** The proxy as a URL Go parses: scheme, percent-encoded userinfo, bracketed IPv6, explicit port. */
export function goProxyUrl(hop: ProxyEndpoint): string {
  const host = bracketHost(hop.host);
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
