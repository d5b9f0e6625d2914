import { createHash } from 'node:crypto';
import { openStore } from '../state/store.ts';
import type { Environment } from './environment.ts';
import type { PacMemory } from './sources.ts';

// PAC answers remembered across runs (issue #17): a ProxyCommand has no long-lived process, so without this every ssh
// session loads pac-resolver and QuickJS and compiles the script again. An answer is kept for PAC_MEMORY_TTL_MS in
// the per-user store (src/state/store.ts), keyed by a hash of (the PAC's content, the URL, the host), so:
// - a changed PAC is obeyed at once (another content, another key): the caller gives the text it obtained for this
//   run (pac-text.ts: a file read on every run, cheap next to the engine; a URL's kept copy while it is fresh, else
//   fetched or revalidated), so a PAC URL's answers are remembered exactly as a file's;
// - a changed network forgets it (the store's forgetOnNetworkChange: the interface addresses, what myIpAddress()
//   and isInNet() on local names depend on);
// - a PAC that calls weekdayRange, dateRange or timeRange is never remembered: its answer may turn at any minute,
//   and a TTL would blur the boundary. Any mention of those names counts (a cheap, conservative test: a comment
//   naming them costs only the memory).

export const PAC_MEMORY_TTL_MS = 5 * 60_000;
const TIME_FUNCTIONS = /\b(?:weekdayRange|dateRange|timeRange)\b/;

export function openPacMemory(env: Environment): PacMemory {
  const store = openStore<string>(env, 'pac-answers', { ttlMs: PAC_MEMORY_TTL_MS, maxEntries: 200, forgetOnNetworkChange: true });
  const keyFor = (content: string, url: string): string | undefined => {
    if (TIME_FUNCTIONS.test(content)) return undefined;
    const host = new URL(url).hostname;
    return createHash('sha256').update(content).update('\0').update(url).update('\0').update(host).digest('hex');
  };
  return {
    recall(content, url) {
      const key = keyFor(content, url);
      const found = key ? store.get(key) : undefined;
      return found && typeof found.value === 'string' ? { answer: found.value, at: found.at } : undefined;
    },
    remember(content, url, answer) {
      const key = keyFor(content, url);
      if (key) store.set(key, answer);
    },
  };
}
