import { readEnvironment, type Environment } from './environment.ts';
import { isLoopbackTarget, matchNoProxy, parseNoProxy } from './no-proxy.ts';
import type { RouteAlternative, RoutePlan } from './plan.ts';
import { usageError } from '../errors.ts';
import { displayProxy, parseProxyUrl, type ProxyEndpoint } from './proxy-url.ts';
import { formatTarget, type Target } from './target.ts';

export interface RouteOptions {
  /** --proxy URLs: a chain, first hop first. Overrides the environment and NO_PROXY from the environment. */
  proxies?: string[];
  /** --direct */
  direct?: boolean;
  /** --no-proxy LIST: replaces NO_PROXY from the environment. */
  noProxy?: string;
  env: Environment;
}

// Precedence (DESIGN.md): flags > BURROW_PROXY > config > PAC > environment, then NO_PROXY. Config files and PAC
// are not built yet; they slot in between BURROW_PROXY and the standard variables.
export function resolveRoute(target: Target, options: RouteOptions): RoutePlan {
  const warnings: string[] = [];
  const plan = (alternative: RouteAlternative): RoutePlan => ({ target, alternatives: [alternative], warnings });
  const where = formatTarget(target);

  if (options.direct) {
    return plan({ hops: [], source: '--direct', reason: '--direct was given' });
  }

  if (options.proxies && options.proxies.length > 0) {
    const hops = options.proxies.map((text, i) => parseProxyUrl(text, options.proxies!.length > 1 ? `--proxy #${i + 1}` : '--proxy'));
    warnings.push(...hopWarnings(hops, '--proxy'));
    if (options.noProxy !== undefined) {
      const entry = matchNoProxy(parseNoProxy(options.noProxy), target.host, target.port);
      if (entry !== undefined) {
        return plan({ hops: [], source: '--no-proxy', reason: `${where} matches "${entry}" in --no-proxy` });
      }
    }
    return plan({ hops, source: '--proxy', reason: `--proxy was given${hops.length > 1 ? ` (a chain of ${hops.length} hops)` : ''}` });
  }

  const reading = readEnvironment(options.env);
  warnings.push(...reading.warnings);
  if (!reading.proxy) {
    return plan({ hops: [], source: 'default', reason: 'no proxy is configured (BURROW_PROXY, HTTPS_PROXY, ALL_PROXY and HTTP_PROXY are unset)' });
  }
  const { name, value } = reading.proxy;
  // BURROW_PROXY may name a chain: comma-separated URLs, first hop first.
  const texts = name.toUpperCase() === 'BURROW_PROXY' ? value.split(',').filter((t) => t.trim() !== '') : [value];
  if (texts.length === 0) throw usageError(`${name} is set but names no proxy ("${value}")`, `unset ${name}, or give it a proxy URL`);
  const hops = texts.map((text) => parseProxyUrl(text, name));
  warnings.push(...hopWarnings(hops, name));

  if (isLoopbackTarget(target.host)) {
    return plan({
      hops: [],
      source: 'loopback',
      reason: `${target.host} is a loopback target: proxies from the environment never apply to it (Go's rule, which tsh follows); use --proxy to force one`,
    });
  }
  const noProxySource = options.noProxy !== undefined ? { name: '--no-proxy', value: options.noProxy } : reading.noProxy;
  if (noProxySource) {
    const list = parseNoProxy(noProxySource.value);
    for (const ignored of list.ignored) warnings.push(`${noProxySource.name} entry "${ignored}" has no host and is ignored`);
    const entry = matchNoProxy(list, target.host, target.port);
    if (entry !== undefined) {
      return plan({ hops: [], source: noProxySource.name, reason: `${where} matches "${entry}" in ${noProxySource.name}` });
    }
  }
  const via = hops.map(displayProxy).join(' then ');
  const exception = noProxySource ? `, and no ${noProxySource.name} entry matches ${where}` : '';
  return plan({ hops, source: name, reason: `${name} is set to ${via}${exception}` });
}

function hopWarnings(hops: ProxyEndpoint[], origin: string): string[] {
  const warnings: string[] = [];
  for (const hop of hops) {
    if (hop.schemeless) {
      warnings.push(`${origin} has no scheme; it is read as ${displayProxy(hop)} (as Go and curl read it): write the scheme to be sure`);
    }
    if (hop.password !== undefined && origin !== '--proxy') {
      warnings.push(
        `${origin} carries a password; programs that print their environment will show it (burrow never does)`,
      );
    }
  }
  return warnings;
}
