// How long a fetched PAC script is used without a request (src/route/pac-freshness.ts, RFC 9111 §4.2 as a private
// cache that never serves stale): a table of header sets, then hostile header values (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEURISTIC_FRACTION, PAC_SCRIPT_FRESHNESS_CAP_MS as CAP, pacFreshness, parseHttpDate, type FreshnessHeaders } from '../../src/route/pac-freshness.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const http = (ms: number): string => new Date(ms).toUTCString();
const HOUR = 3600_000;

describe('pacFreshness', () => {
  it.each<[string, FreshnessHeaders, { keep: boolean; freshForMs: number }]>([
    ['nothing: not kept (nothing to revalidate with)', {}, { keep: false, freshForMs: 0 }],
    ['max-age', { 'cache-control': 'max-age=600' }, { keep: true, freshForMs: 600_000 }],
    ['max-age, quoted', { 'cache-control': 'public, max-age="600"' }, { keep: true, freshForMs: 600_000 }],
    ['max-age less Age', { 'cache-control': 'max-age=600', age: '100' }, { keep: true, freshForMs: 500_000 }],
    ['Age beyond max-age', { 'cache-control': 'max-age=600', age: '900', etag: '"a"' }, { keep: true, freshForMs: 0 }],
    ['max-age twice: stale', { 'cache-control': 'max-age=600, max-age=60', etag: '"a"' }, { keep: true, freshForMs: 0 }],
    ['max-age not a number: stale, and no validator', { 'cache-control': 'max-age=soon' }, { keep: false, freshForMs: 0 }],
    ['a huge max-age: capped', { 'cache-control': 'max-age=99999999999999999999' }, { keep: true, freshForMs: CAP }],
    ['s-maxage alone is for shared caches', { 'cache-control': 's-maxage=600', etag: '"a"' }, { keep: true, freshForMs: 0 }],
    ['max-age beats s-maxage', { 'cache-control': 's-maxage=60, max-age=600' }, { keep: true, freshForMs: 600_000 }],
    ['no-store beats everything', { 'cache-control': 'max-age=600, no-store', etag: '"a"' }, { keep: false, freshForMs: 0 }],
    ['no-store in a malformed list still counts', { 'cache-control': 'max-age=5 no-store', etag: '"a"' }, { keep: false, freshForMs: 0 }],
    ['no-cache: kept to revalidate', { 'cache-control': 'no-cache', etag: '"a"' }, { keep: true, freshForMs: 0 }],
    ['no-cache beats max-age', { 'cache-control': 'max-age=600, no-cache', 'last-modified': http(NOW - HOUR) }, { keep: true, freshForMs: 0 }],
    ['qualified no-cache counts as no-cache', { 'cache-control': 'no-cache="set-cookie", max-age=600', etag: '"a"' }, { keep: true, freshForMs: 0 }],
    ['Pragma: no-cache without Cache-Control', { pragma: 'no-cache', expires: http(NOW + HOUR), etag: '"a"' }, { keep: true, freshForMs: 0 }],
    ['Pragma is ignored beside Cache-Control', { pragma: 'no-cache', 'cache-control': 'max-age=60' }, { keep: true, freshForMs: 60_000 }],
    ['Expires minus Date (server clock on both sides)', { date: http(NOW - 5 * HOUR), expires: http(NOW - 3 * HOUR) }, { keep: true, freshForMs: 2 * HOUR }],
    ['Expires without Date: from the time received', { expires: http(NOW + HOUR) }, { keep: true, freshForMs: HOUR }],
    ['Expires: 0 is in the past', { expires: '0', etag: '"a"' }, { keep: true, freshForMs: 0 }],
    ['Expires in the past', { date: http(NOW), expires: http(NOW - HOUR) }, { keep: false, freshForMs: 0 }],
    ['max-age beats Expires', { 'cache-control': 'max-age=60', date: http(NOW), expires: http(NOW + HOUR) }, { keep: true, freshForMs: 60_000 }],
    ['heuristic: 10% of the time since Last-Modified', { date: http(NOW), 'last-modified': http(NOW - 10 * HOUR) }, { keep: true, freshForMs: HOUR }],
    ['heuristic: capped at 24 h', { date: http(NOW), 'last-modified': http(NOW - 365 * 24 * HOUR) }, { keep: true, freshForMs: CAP }],
    ['heuristic: none when Expires is there', { date: http(NOW), expires: http(NOW), 'last-modified': http(NOW - 10 * HOUR) }, { keep: true, freshForMs: 0 }],
    ['Last-Modified in the future: no heuristic, still a validator', { date: http(NOW), 'last-modified': http(NOW + HOUR) }, { keep: true, freshForMs: 0 }],
    ['ETag alone: kept to revalidate', { etag: 'W/"v1"' }, { keep: true, freshForMs: 0 }],
  ])('%s', (_why, headers, expected) => {
    expect(pacFreshness(headers, NOW)).toEqual(expected);
  });

  it('the heuristic fraction is 10%', () => expect(HEURISTIC_FRACTION).toBe(0.1));
});

describe('parseHttpDate', () => {
  it.each<[string, number | undefined]>([
    ['Sun, 06 Nov 1994 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sun Nov  6 08:49:37 1994', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Thu, 01 Jan 2037 00:00:00 GMT', Date.UTC(2037, 0, 1)],
    ['1', undefined],
    ['0', undefined],
    ['Sun, 06 Nov 1994 08:49:37 +0100', undefined],
    ['Sun, 31 Feb 2026 08:49:37 GMT', undefined],
    ['Sun, 06 Foo 1994 08:49:37 GMT', undefined],
    ['Sun, 06 Nov 1994 25:49:37 GMT', undefined],
    ['', undefined],
  ])('%j', (text, expected) => {
    expect(parseHttpDate(text)).toBe(expected);
  });
});

describe('pacFreshness with hostile headers (fast-check)', () => {
  const token = fc.constantFrom('max-age', 's-maxage', 'no-cache', 'no-store', 'private', 'public', 'must-revalidate', '', '=', ',', '"', ' ');
  const number = fc.oneof(fc.nat().map(String), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String), fc.constantFrom('-1', '1e9', '0x10', 'NaN', 'Infinity', '" 5"'));
  const directive = fc.tuple(token, fc.option(fc.oneof(number, fc.string()), { nil: undefined })).map(([name, value]) => (value === undefined ? name : `${name}=${value}`));
  const cacheControl = fc.oneof(fc.string(), fc.array(directive, { maxLength: 6 }).map((list) => list.join(', ')));
  const date = fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()), fc.constantFrom('0', '-1', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT'));
  const headers = fc.record(
    { 'cache-control': cacheControl, pragma: fc.oneof(fc.string(), fc.constant('no-cache')), expires: date, date, 'last-modified': date, age: fc.oneof(number, fc.string()), etag: fc.string() },
    { requiredKeys: [] },
  );
  const receivedAt = fc.oneof(fc.constant(NOW), fc.integer({ min: 0, max: 2 ** 50 }));

  it('never throws, never negative, never over the cap; no-store is never kept', () => {
    fc.assert(
      fc.property(headers, receivedAt, (h, at) => {
        const { keep, freshForMs } = pacFreshness(h, at);
        expect(Number.isFinite(freshForMs)).toBe(true);
        expect(freshForMs).toBeGreaterThanOrEqual(0);
        expect(freshForMs).toBeLessThanOrEqual(CAP);
        if (/(?:^|[\s,])no-store(?:[\s,=]|$)/i.test(h['cache-control'] ?? '')) expect(keep).toBe(false);
        if (freshForMs > 0) expect(keep).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
