import { usageError } from '../errors.ts';
import { configuredProxyTexts, type Environment } from '../route/environment.ts';
import { displayProxy, parseProxyUrl } from '../route/proxy-url.ts';
import type { Candidate } from './probes/path.ts';

export const DIRECT: Candidate = { via: 'direct', hops: [], source: 'direct' };

/**
 * Every proxy (or chain) the user could mean: --proxy, then BURROW_PROXY and the standard variables, each read with
 * burrow's rules (upper case wins). doctor tries the target through each of them and directly, whatever the route
 * says, so that it can tell which one works. The same proxy named by several variables is tried once.
 */
export function proxyCandidates(options: { proxies?: string[]; direct?: boolean }, env: Environment): Candidate[] {
  if (options.direct) return [];
  const found: Candidate[] = [];
  const add = (texts: string[], source: string) => {
    const hops = texts.map((text, i) => parseProxyUrl(text, texts.length > 1 ? `${source} #${i + 1}` : source));
    const via = hops.map(displayProxy).join(' -> ');
    const same = found.find((c) => c.via === via);
    if (same) {
      if (!same.source.split(', ').includes(source)) same.source = `${same.source}, ${source}`;
      return;
    }
    found.push({ via, hops, source });
  };
  if (options.proxies?.length) add(options.proxies, '--proxy');
  for (const { name, texts } of configuredProxyTexts(env)) {
    if (texts.length === 0) throw usageError(`${name} is set but names no proxy`);
    add(texts, name);
  }
  return found;
}
