import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { openStore } from '../state/store.ts';
import { fetchPac, PAC_MAX_BYTES, type PacValidators } from './pac-fetch.ts';
import { pacFreshness } from './pac-freshness.ts';

// PAC URLs' scripts kept between runs (issue #17), so that a run does not fetch the script again while it is fresh
// and the answers it gave can be remembered (pac-memory.ts keys them on the content). In the per-user store
// (src/state/store.ts) as `pac-scripts`, keyed by a hash of the URL the user gave (redirects are followed on each
// fetch; what they end at is not the key), with the response headers that freshness and revalidation need:
// - fresh (pac-freshness.ts: max-age, Expires, the Last-Modified heuristic; at most 24 h): no request at all;
// - stale: a conditional GET (If-None-Match, If-Modified-Since); 304 keeps the text and renews its freshness from
//   the new headers over the kept ones (RFC 9111 §4.3.4); 200 replaces it;
// - `--fresh`: an unconditional GET, whose result is kept as any other.
// Forgotten on a change of network (another network may have another PAC server, or the same URL another script),
// and after KEPT_MS whatever the freshness (validators older than that are not worth a stale copy on disk).
// A fetch that fails is an error, as without a kept copy: no stale fallback. The PAC server out of reach usually
// means another network (the copy's proxies are then wrong too), and a silent old script would hide the problem.

const KEPT_MS = 7 * 24 * 3600_000;
/** The headers kept with the script: what freshness reads, and the validators. */
const KEPT_HEADERS = ['cache-control', 'pragma', 'expires', 'date', 'last-modified', 'etag'] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Where a run's PAC script came from, for `burrow route`. Times in ms since the epoch. */
export interface PacScriptOrigin {
  /** fetched now (unconditionally, or a changed script), kept from an earlier run without a request, or revalidated now (304). */
  how: 'fetched' | 'kept' | 'revalidated';
  /** When the script was last fetched or revalidated. */
  at: number;
  /** Until when it is used without a request; undefined when it is not kept at all (no-store, or nothing to revalidate with). */
  freshUntil?: number;
}

interface KeptScript {
  text: string;
  headers: Partial<Record<(typeof KEPT_HEADERS)[number], string>>;
  freshUntil: number;
}

export async function loadPacUrl(location: string, timeoutMs: number, env: Env, { fresh = false, now = Date.now }: { fresh?: boolean; now?: () => number } = {}): Promise<{ text: string; origin: PacScriptOrigin }> {
  const store = openStore<unknown>(env, 'pac-scripts', { ttlMs: KEPT_MS, maxEntries: 20, forgetOnNetworkChange: true });
  const key = createHash('sha256').update(location).digest('hex');
  const found = store.get(key);
  const kept = !fresh && found && isKeptScript(found.value) ? found.value : undefined;
  if (kept && found && now() < kept.freshUntil) return { text: kept.text, origin: { how: 'kept', at: found.at, freshUntil: kept.freshUntil } };

  const validators: PacValidators = kept ? { ...(kept.headers.etag !== undefined ? { etag: kept.headers.etag } : {}), ...(kept.headers['last-modified'] !== undefined ? { lastModified: kept.headers['last-modified'] } : {}) } : {};
  const response = await fetchPac(location, timeoutMs, env, validators);
  const at = now();
  // A 304 comes only to a conditional request, which only a kept copy makes. Its headers update the kept ones
  // (RFC 9111 §4.3.4), but for Date, which belongs to one response: the old one would stretch an Expires.
  const text = response.status === 200 ? response.text : kept!.text;
  const headers = response.status === 200 ? keptHeaders(response.headers) : { ...kept!.headers, date: undefined, ...keptHeaders(response.headers) };
  const how = response.status === 200 ? 'fetched' : 'revalidated';
  const freshness = pacFreshness({ ...headers, ...(response.headers.age !== undefined ? { age: response.headers.age } : {}) }, at);
  if (!freshness.keep) {
    if (found) store.delete(key);
    return { text, origin: { how, at } };
  }
  const freshUntil = at + freshness.freshForMs;
  store.set(key, { text, headers, freshUntil } satisfies KeptScript, at);
  return { text, origin: { how, at, freshUntil } };
}

function keptHeaders(headers: IncomingHttpHeaders): KeptScript['headers'] {
  const kept: KeptScript['headers'] = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value;
  }
  return kept;
}

/**
 * A kept entry as written above; anything else (a hand-edited or foreign file) is ignored, as the store ignores a
 * corrupt file. The validators go back into request headers: a value Node would refuse there is refused here.
 */
function isKeptScript(value: unknown): value is KeptScript {
  if (typeof value !== 'object' || value === null) return false;
  const { text, headers, freshUntil } = value as Partial<KeptScript>;
  if (typeof text !== 'string' || text.length > PAC_MAX_BYTES || typeof freshUntil !== 'number' || !Number.isFinite(freshUntil)) return false;
  if (typeof headers !== 'object' || headers === null) return false;
  return Object.entries(headers).every(([name, header]) => (KEPT_HEADERS as readonly string[]).includes(name) && typeof header === 'string' && header.length <= 8192 && /^[\t\x20-\x7e\x80-\xff]*$/.test(header));
}
