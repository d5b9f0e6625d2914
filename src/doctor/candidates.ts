import { sourceText } from '../route/plan.ts';
import type { RoutePolicy } from '../route/policy.ts';
import { formatHops } from '../route/proxy-url.ts';
import type { Candidate } from './probes/path.ts';

export const DIRECT: Candidate = { via: 'direct', hops: [], source: 'direct' };

/**
 * Every proxy (or chain) the user could mean, as the route policy read them (--proxy, then BURROW_PROXY and the
 * standard variables, then the desktop's manual proxy setting, named by its origin): doctor tries the target through each of them and directly, whatever the route says, so that
 * it can tell which one works. The same proxy named by several variables is tried once.
 */
export async function proxyCandidates(policy: RoutePolicy): Promise<Candidate[]> {
  const found: Candidate[] = [];
  for (const named of await policy.namedProxies()) {
    const source = sourceText(named.source);
    const via = formatHops(named.hops);
    const same = found.find((c) => c.via === via);
    if (!same) found.push({ via, hops: named.hops, source });
    else if (!same.source.split(', ').includes(source)) same.source = `${same.source}, ${source}`;
  }
  return found;
}
