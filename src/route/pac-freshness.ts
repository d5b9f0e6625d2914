// How long a fetched PAC script may be used without asking its server again (issue #17): RFC 9111 §4.2, as a
// private cache (one user's) that never serves a stale response. The choices:
// - `Cache-Control: no-store` → never kept. `no-cache` (any form) → kept only to revalidate: fresh for 0 ms.
//   `Pragma: no-cache` counts as no-cache when there is no Cache-Control (an HTTP/1.0 server meant the same).
// - `max-age` decides; `s-maxage` is for shared caches and is ignored (so are private, must-revalidate and
//   proxy-revalidate: they change nothing for a cache that never serves stale). Else `Expires` minus `Date` (the
//   server's own clock on both sides, so a skewed local clock does not matter; the time received stands in for a
//   missing Date). Else, with `Last-Modified`, the heuristic RFC 9111 §4.2.2 suggests: 10% of the time since then.
// - A max-age given twice or not a number, an Expires that is not an HTTP date: stale at once (as §4.2.1 advises).
// - `Age` (time the response already spent in caches on the way) is taken off.
// - Everything is capped at PAC_SCRIPT_FRESHNESS_CAP_MS (24 h): a PAC that IT changes reaches every laptop within a
//   day whatever the server says, and a PAC unchanged for ten days or more gets the whole day from the heuristic.
// - A response with neither freshness nor a validator (ETag, Last-Modified) is not kept: the next run would fetch
//   it whole anyway.

export const PAC_SCRIPT_FRESHNESS_CAP_MS = 24 * 3600_000;
export const HEURISTIC_FRACTION = 0.1;

/** The response headers freshness reads, lower-case names, as Node gives them (duplicates of most joined by ", "). */
export type FreshnessHeaders = Readonly<Partial<Record<'cache-control' | 'pragma' | 'expires' | 'date' | 'last-modified' | 'age' | 'etag', string>>>;

export interface Freshness {
  /** Whether to keep the script at all (no-store, or nothing to gain: no freshness and no validator). */
  keep: boolean;
  /** How long from `receivedAt` the script may be used without a request: 0..PAC_SCRIPT_FRESHNESS_CAP_MS. */
  freshForMs: number;
}

export function pacFreshness(headers: FreshnessHeaders, receivedAt: number): Freshness {
  const directives = parseCacheControl(headers['cache-control']);
  // no-store wherever it stands as a word, even in a malformed list ("max-age=5 no-store"): the server's intent wins.
  if (/(?:^|[\s,"])no-store(?:[\s,="]|$)/i.test(headers['cache-control'] ?? '')) return { keep: false, freshForMs: 0 };
  const validators = headers.etag !== undefined || parseHttpDate(headers['last-modified']) !== undefined;
  const noCache = directives.has('no-cache') || (headers['cache-control'] === undefined && /(?:^|,)\s*no-cache\s*(?:,|$)/i.test(headers.pragma ?? ''));
  const lifetime = noCache ? 0 : lifetimeMs(directives, headers, receivedAt);
  const age = deltaSeconds(headers.age);
  const freshForMs = Math.max(0, Math.min(lifetime - (age ?? 0) * 1000, PAC_SCRIPT_FRESHNESS_CAP_MS));
  return { keep: freshForMs > 0 || validators, freshForMs };
}

function lifetimeMs(directives: Map<string, string[]>, headers: FreshnessHeaders, receivedAt: number): number {
  const maxAge = directives.get('max-age');
  if (maxAge !== undefined) {
    const seconds = maxAge.length === 1 ? deltaSeconds(maxAge[0]) : undefined;
    return seconds === undefined ? 0 : seconds * 1000;
  }
  const date = parseHttpDate(headers.date) ?? receivedAt;
  if (headers.expires !== undefined) {
    const expires = parseHttpDate(headers.expires);
    return expires === undefined ? 0 : expires - date;
  }
  const lastModified = parseHttpDate(headers['last-modified']);
  if (lastModified !== undefined && lastModified < date) return (date - lastModified) * HEURISTIC_FRACTION;
  return 0;
}

/** RFC 9111 §1.2.2 delta-seconds (a quoted form too, which §5.2 asks recipients to accept); huge values saturate. */
function deltaSeconds(text: string | undefined): number | undefined {
  const match = text === undefined ? null : /^\s*"?(\d{1,20})"?\s*$/.exec(text);
  return match ? Math.min(Number(match[1]), 2 ** 31) : undefined;
}

/** Cache-Control's directives, lower-case names, each with its values in order (a directive may appear twice). */
function parseCacheControl(text: string | undefined): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  if (text === undefined) return directives;
  // name[=token|"quoted, with commas"], separated by commas.
  for (const match of text.matchAll(/([^\s=,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?/g)) {
    const name = match[1]!.toLowerCase();
    directives.set(name, [...(directives.get(name) ?? []), (match[2] ?? '').trim()]);
  }
  return directives;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * An HTTP-date (RFC 9110 §5.6.7) in ms since the epoch: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), and the
 * obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994") forms; undefined for
 * anything else (Date.parse would read "1" as the year 2001).
 */
export function parseHttpDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const imf = /^\s*[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT\s*$/.exec(text);
  const rfc850 = /^\s*[A-Z][a-z]+, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT\s*$/.exec(text);
  const asctime = /^\s*[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})\s*$/.exec(text);
  let parts: [day: string, month: string, year: number, h: string, m: string, s: string] | undefined;
  if (imf) parts = [imf[1]!, imf[2]!, Number(imf[3]), imf[4]!, imf[5]!, imf[6]!];
  else if (rfc850) {
    // RFC 9110: a two-digit year more than 50 years in the future is the past century's.
    const yy = Number(rfc850[3]);
    const year = 2000 + yy > new Date().getUTCFullYear() + 50 ? 1900 + yy : 2000 + yy;
    parts = [rfc850[1]!, rfc850[2]!, year, rfc850[4]!, rfc850[5]!, rfc850[6]!];
  } else if (asctime) parts = [asctime[2]!, asctime[1]!, Number(asctime[6]), asctime[3]!, asctime[4]!, asctime[5]!];
  if (!parts) return undefined;
  const [day, month, year, h, m, s] = parts;
  const monthIndex = MONTHS.indexOf(month);
  const [d, hh, mm, ss] = [day, h, m, s].map(Number) as [number, number, number, number];
  if (monthIndex < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return undefined;
  const ms = Date.UTC(year, monthIndex, d, hh, mm, ss);
  // 31 Feb and the like roll over in Date.UTC: refuse them rather than read another day.
  return new Date(ms).getUTCDate() === d ? ms : undefined;
}
