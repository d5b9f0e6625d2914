import { usageError } from '../errors.ts';
import { readVariable, type Environment } from '../route/environment.ts';
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
  const warnings: string[] = [];
  for (const name of ['BURROW_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'HTTP_PROXY']) {
    const value = readVariable(env, name, warnings);
    if (!value) continue;
    const texts = name === 'BURROW_PROXY' ? value.value.split(',').filter((t) => t.trim() !== '') : [value.value];
    if (texts.length === 0) throw usageError(`${value.name} is set but names no proxy`);
    add(texts, value.name);
  }
  return found;
}
