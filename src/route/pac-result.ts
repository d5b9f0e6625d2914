import { isIP } from 'node:net';
import type { ProxyScheme } from './proxy-url.ts';
import { bracketHost, formatHostPort, splitHostPort } from './target.ts';

// FindProxyForURL's answer: "PROXY a:3128; SOCKS5 b:1080; DIRECT" — entries separated by ";", each a keyword and
// (except DIRECT) a host:port, tried in order (Netscape's PAC format). Pure, so its edge cases are one table.
//
// Keywords, as browsers read them:
//   PROXY, HTTP  -> http://         (HTTP is Firefox's synonym)
//   HTTPS        -> https://        (TLS to the proxy; Chrome and Firefox)
//   SOCKS, SOCKS5 -> socks5h://     (Firefox reads a bare SOCKS as version 5 and, like Chrome for SOCKS5, lets the
//                                   proxy resolve names; Chrome reads a bare SOCKS as version 4: write SOCKS4 or
//                                   SOCKS5 to be sure)
//   SOCKS4       -> socks4://       (the client resolves the name, as Chrome does)
//   DIRECT       -> no proxy
// An empty or null answer means DIRECT (Chrome and Firefox agree), and so does an answer with no usable entry.

export type PacEntry = { kind: 'direct' } | { kind: 'proxy'; scheme: ProxyScheme; host: string; port: number; text: string };

export interface PacAnswer {
  entries: PacEntry[];
  /** Entries that were skipped, and why. */
  problems: string[];
}

const KEYWORDS: Record<string, ProxyScheme> = {
  PROXY: 'http',
  HTTP: 'http',
  HTTPS: 'https',
  SOCKS: 'socks5h',
  SOCKS5: 'socks5h',
  SOCKS4: 'socks4',
};

const DEFAULT_PORTS: Record<string, number> = { PROXY: 80, HTTP: 80, HTTPS: 443, SOCKS: 1080, SOCKS5: 1080, SOCKS4: 1080 };

export function parsePacAnswer(answer: unknown): PacAnswer {
  const problems: string[] = [];
  if (answer === null || answer === undefined) return { entries: [{ kind: 'direct' }], problems };
  if (typeof answer !== 'string') {
    return { entries: [{ kind: 'direct' }], problems: [`FindProxyForURL returned a ${typeof answer}, not a string; read as DIRECT`] };
  }
  const entries: PacEntry[] = [];
  const seen = new Set<string>();
  for (const raw of answer.split(';')) {
    const item = raw.trim();
    if (item === '') continue;
    const [keywordText = '', address, ...extra] = item.split(/\s+/);
    const keyword = keywordText.toUpperCase();
    if (keyword === 'DIRECT') {
      if (address !== undefined) problems.push(`"${item}": DIRECT takes no address; read as DIRECT`);
      if (!seen.has('DIRECT')) entries.push({ kind: 'direct' });
      seen.add('DIRECT');
      continue;
    }
    const scheme = KEYWORDS[keyword];
    if (!scheme) {
      problems.push(`"${item}": unknown keyword ${keywordText} (burrow knows PROXY, HTTP, HTTPS, SOCKS, SOCKS4, SOCKS5, DIRECT); skipped`);
      continue;
    }
    if (address === undefined || extra.length > 0) {
      problems.push(`"${item}": ${keyword} needs exactly one HOST:PORT; skipped`);
      continue;
    }
    const parsed = parseHostPort(address, DEFAULT_PORTS[keyword]!);
    if (typeof parsed === 'string') {
      problems.push(`"${item}": ${parsed}; skipped`);
      continue;
    }
    const text = `${scheme}://${formatHostPort(parsed.host, parsed.port)}`;
    if (seen.has(text)) continue;
    seen.add(text);
    entries.push({ kind: 'proxy', scheme, host: parsed.host, port: parsed.port, text });
  }
  // Nothing usable: browsers go DIRECT; the problems become route warnings, so `burrow route` shows them.
  if (entries.length === 0) entries.push({ kind: 'direct' });
  return { entries, problems };
}

function parseHostPort(text: string, defaultPort: number): { host: string; port: number } | string {
  const { host, port: portText } = splitHostPort(text);
  if (host === '' || /[\s/\\?#@\u0000-\u001f\u007f]/.test(host) || (host.includes(':') && isIP(host) !== 6)) return `"${text}" is not a valid HOST:PORT`;
  if (portText === undefined) return { host: host.toLowerCase(), port: defaultPort };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return `port "${portText}" is not a number from 1 to 65535`;
  return { host: host.toLowerCase(), port: Number(portText) };
}

/** The URL burrow passes to FindProxyForURL for a TCP target: http:// for port 80, else https:// (port 443 omitted). */
export function pacUrlFor(host: string, port: number): string {
  const shown = bracketHost(host);
  if (port === 80) return `http://${shown}/`;
  if (port === 443) return `https://${shown}/`;
  return `https://${shown}:${port}/`;
}
