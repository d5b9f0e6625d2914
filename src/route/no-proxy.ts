import { hostNameToAscii } from './host-name.ts';
import { cidrContains, ipEqual, isLoopbackIp, parseCidr, parseIp, type Cidr } from './ip.ts';

// NO_PROXY with Go's net/http rules (golang.org/x/net/http/httpproxy), the column REFERENCE.md §2 asks for, so that
// burrow and tsh make the same choice for every target:
// - "*" anywhere in the list means never proxy;
// - "1.2.3.0/24", "::1/64": CIDR, matched against IP-literal targets only (no DNS lookups, ever);
// - "1.2.3.4", "[::1]:22", "1.2.3.4:22": one IP, optionally one port;
// - "d.com" matches d.com and every subdomain; ".d.com" and "*.d.com" match subdomains only;
// - "d.com:22" is port-specific;
// - localhost and loopback IPs are never proxied by environment routes (the caller applies that rule).
// The list is parsed once into matchers; `matchNoProxy` is then a pure function of (matchers, host, port).

type Matcher =
  | { kind: 'all'; entry: string }
  | { kind: 'cidr'; entry: string; cidr: Cidr }
  | { kind: 'ip'; entry: string; ip: Uint8Array; port: string }
  | { kind: 'domain'; entry: string; suffix: string; matchBare: boolean; port: string };

export interface NoProxyList {
  matchers: Matcher[];
  /** Entries that could not be used, and why, for warnings. */
  ignored: Array<{ entry: string; why: 'no host' | 'not a host name' }>;
}

export function parseNoProxy(text: string | undefined): NoProxyList {
  const list: NoProxyList = { matchers: [], ignored: [] };
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') {
      return { matchers: [{ kind: 'all', entry }], ignored: [] };
    }
    const cidr = parseCidr(entry);
    if (cidr) {
      list.matchers.push({ kind: 'cidr', entry, cidr });
      continue;
    }
    const split = splitHostPort(entry);
    let host = split ? split.host : entry;
    const port = split ? split.port : '';
    if (split && host === '') {
      list.ignored.push({ entry: raw.trim(), why: 'no host' });
      continue;
    }
    // Like Go, brackets come off only in the host:port form; a bare "[::1]" is no IP entry.
    if (split && host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const ip = parseIp(host);
    if (ip) {
      list.matchers.push({ kind: 'ip', entry, ip, port });
      continue;
    }
    if (host === '') {
      list.ignored.push({ entry: raw.trim(), why: 'no host' });
      continue;
    }
    if (host.startsWith('*.')) host = host.slice(1);
    const matchBare = !host.startsWith('.');
    // A name that does not convert (no IDNA form, URL syntax, an empty label) is ignored, never kept as written:
    // it must not match anything by accident.
    const name = hostNameToAscii(matchBare ? host : host.slice(1));
    if (name === undefined) {
      list.ignored.push({ entry: raw.trim(), why: 'not a host name' });
      continue;
    }
    const suffix = `.${name}`;
    list.matchers.push({ kind: 'domain', entry, suffix, matchBare, port });
  }
  return list;
}

/** The NO_PROXY entry that sends host:port direct, or undefined when none does. */
export function matchNoProxy(list: NoProxyList, host: string, port: number): string | undefined {
  const lower = host.trim().toLowerCase();
  // A host that is no name (nor IP) matches no name entry; "*", CIDR and IP entries still apply as they would.
  const name = hostNameToAscii(lower);
  const portText = String(port);
  const ip = parseIp(name ?? lower);
  for (const matcher of list.matchers) {
    switch (matcher.kind) {
      case 'all':
        return matcher.entry;
      case 'cidr':
        if (ip && cidrContains(matcher.cidr, ip)) return matcher.entry;
        break;
      case 'ip':
        if (ip && ipEqual(matcher.ip, ip) && (matcher.port === '' || matcher.port === portText)) return matcher.entry;
        break;
      case 'domain':
        // Name entries never match IP literals (Go since x/net 0.36, CVE-2025-22870: "::1%.corp.example" is an
        // address with a zone, not a host in corp.example).
        if (ip || name === undefined) break;
        if (name.endsWith(matcher.suffix) || (matcher.matchBare && name === matcher.suffix.slice(1))) {
          if (matcher.port === '' || matcher.port === portText) return matcher.entry;
        }
        break;
    }
  }
  return undefined;
}

/** Go's httpproxy never proxies "localhost" or a loopback IP literal, whatever NO_PROXY says. */
export function isLoopbackTarget(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost') return true;
  const ip = parseIp(name);
  return ip !== undefined && isLoopbackIp(ip);
}

// Go's net.SplitHostPort: "[v6]:port", "host:port"; a bare IPv6 address has too many colons and is no host:port.
function splitHostPort(entry: string): { host: string; port: string } | undefined {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0 || entry[close + 1] !== ':') return undefined;
    return { host: entry.slice(0, close + 1), port: entry.slice(close + 2) };
  }
  const colon = entry.lastIndexOf(':');
  if (colon < 0 || entry.indexOf(':') !== colon) return undefined;
  return { host: entry.slice(0, colon), port: entry.slice(colon + 1) };
}
