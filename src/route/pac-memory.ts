import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openStore } from '../state/store.ts';
import type { Environment } from './environment.ts';
import type { PacMemory } from './sources.ts';

// PAC answers remembered across runs (issue #17): a ProxyCommand has no long-lived process, so without this every ssh
// session loads pac-resolver and QuickJS and compiles the script again. An answer is kept for PAC_MEMORY_TTL_MS in
// the per-user store (src/state/store.ts), keyed by a hash of (the PAC's content, the URL, the host), so:
// - a changed PAC file is obeyed at once (another content, another key; the file is read on every run, which is
//   cheap next to the engine);
// - a changed network forgets it (the store's forgetOnNetworkChange: the interface addresses, what myIpAddress()
//   and isInNet() on local names depend on);
// - a PAC that calls weekdayRange, dateRange or timeRange is never remembered: its answer may turn at any minute,
//   and a TTL would blur the boundary. Any mention of those names counts (a cheap, conservative test: a comment
//   naming them costs only the memory).
// Only PAC files are remembered: a PAC URL's content is not known without fetching it.

export const PAC_MEMORY_TTL_MS = 5 * 60_000;
const TIME_FUNCTIONS = /\b(?:weekdayRange|dateRange|timeRange)\b/;

export function openPacMemory(env: Environment, options: { fresh?: boolean } = {}): PacMemory {
  const store = openStore<string>(env, 'pac-answers', { ttlMs: PAC_MEMORY_TTL_MS, maxEntries: 200, forgetOnNetworkChange: true });
  // Read once per run per location: the walk may ask for several targets.
  const contents = new Map<string, string | undefined>();
  const keyFor = (location: string, url: string): string | undefined => {
    if (!contents.has(location)) contents.set(location, rememberableContent(location));
    const content = contents.get(location);
    if (content === undefined) return undefined;
    const host = new URL(url).hostname;
    return createHash('sha256').update(content).update('\0').update(url).update('\0').update(host).digest('hex');
  };
  return {
    recall(location, url) {
      if (options.fresh) return undefined;
      const key = keyFor(location, url);
      const found = key ? store.get(key) : undefined;
      return found && typeof found.value === 'string' ? { answer: found.value, at: found.at } : undefined;
    },
    remember(location, url, answer) {
      const key = keyFor(location, url);
      if (key) store.set(key, answer);
    },
  };
}

/** The PAC file's text when its answers may be remembered; undefined for URLs, unreadable files and time-dependent scripts. */
function rememberableContent(location: string): string | undefined {
  if (/^https?:\/\//i.test(location)) return undefined;
  try {
    const text = readFileSync(location.startsWith('file:') ? fileURLToPath(location) : location, 'utf8');
    return TIME_FUNCTIONS.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}
