import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { readEnvironment, type Environment, type EnvironmentValue } from './environment.ts';
import { isLoopbackTarget, matchNoProxy, parseNoProxy } from './no-proxy.ts';
import type { RouteAlternative, RoutePlan } from './plan.ts';
import { BurrowError, usageError } from '../errors.ts';
import { displayProxy, parseProxyUrl, type ProxyEndpoint } from './proxy-url.ts';
import { formatPorts, matchRules, namesTargetExactly } from './rules.ts';
import { formatTarget, printable, type Target } from './target.ts';
import type { BurrowConfig } from './config.ts';
import type { PacScript } from './pac.ts';
import type { ProxychainsConf } from './proxychains.ts';

export interface RouteOptions {
  /** --proxy URLs: a chain, first hop first. Overrides the environment and NO_PROXY from the environment. */
  proxies?: string[];
  /** --direct */
  direct?: boolean;
  /** --no-proxy LIST: replaces NO_PROXY from the environment. */
  noProxy?: string;
  /** --config FILE (must exist). Without it, $XDG_CONFIG_HOME/burrow/config.yaml is read if it exists. */
  configFile?: string;
  /** --pac FILE|URL (else BURROW_PAC, else pac: in the config file). */
  pac?: string;
  /** --proxychains-conf FILE */
  proxychainsConf?: string;
  env: Environment;
}

export const DEFAULT_PAC_TIMEOUT_MS = 10_000;

// What one run loads once, whatever the number of targets it resolves (forward resolves one per connection): the
// config file, the PAC script with its answers, the proxychains file. Keyed by the options object, which a command
// builds once per run.
interface RunState {
  config?: Promise<BurrowConfig | undefined>;
  pac?: Promise<PacScript>;
  proxychains?: ProxychainsConf;
}
const runs = new WeakMap<RouteOptions, RunState>();

/**
 * Target -> RoutePlan, with the reason for each alternative. Precedence (DESIGN.md), first match wins:
 * --direct; --proxy (a chain; --no-proxy may exempt the target); --proxychains-conf; BURROW_PROXY; a rule of the
 * config file; a PAC file (--pac, BURROW_PAC, pac: in the config); default: in the config (with its no_proxy, else
 * NO_PROXY); HTTPS_PROXY, ALL_PROXY, HTTP_PROXY (with NO_PROXY); direct. Loopback targets go direct unless --proxy,
 * the proxychains file or a config rule that names them exactly says otherwise.
 *
 * Async because a PAC file is evaluated by a script (and may be fetched); without a config file or a PAC nothing
 * is read or imported beyond one failed open() of the default config path.
 */
export async function resolveRoute(target: Target, options: RouteOptions): Promise<RoutePlan> {
  let state = runs.get(options);
  if (!state) runs.set(options, (state = {}));
  const config = await (state.config ??= loadConfig(options));
  const warnings: string[] = [...(config?.warnings ?? [])];
  const timeouts = config && (config.timeouts.connectMs !== undefined || config.timeouts.alternativeMs !== undefined)
    ? {
        ...(config.timeouts.connectMs !== undefined ? { connectMs: config.timeouts.connectMs } : {}),
        ...(config.timeouts.alternativeMs !== undefined ? { alternativeMs: config.timeouts.alternativeMs } : {}),
      }
    : undefined;
  const done = (alternatives: RouteAlternative[]): RoutePlan => {
    const credentials = config && config.credentials.length > 0 ? { file: config.file, credentials: config.credentials } : undefined;
    return { target, alternatives, warnings, ...(timeouts ? { timeouts } : {}), ...(credentials ? { credentials } : {}) };
  };
  const plan = (alternative: RouteAlternative): RoutePlan => done([alternative]);
  const where = formatTarget(target);
  const flagNoProxy = (): RouteAlternative | undefined => {
    if (options.noProxy === undefined) return undefined;
    const entry = matchNoProxy(parseNoProxy(options.noProxy), target.host, target.port);
    return entry === undefined ? undefined : { hops: [], source: '--no-proxy', reason: `${where} matches "${entry}" in --no-proxy` };
  };

  if (options.direct) {
    return plan({ hops: [], source: '--direct', reason: '--direct was given' });
  }

  if (options.proxies && options.proxies.length > 0) {
    const hops = options.proxies.map((text, i) => parseProxyUrl(text, options.proxies!.length > 1 ? `--proxy #${i + 1}` : '--proxy'));
    warnings.push(...hopWarnings(hops, '--proxy'));
    const exempt = flagNoProxy();
    if (exempt) return plan(exempt);
    return plan({ hops, source: '--proxy', reason: `--proxy was given${hops.length > 1 ? ` (a chain of ${hops.length} hops)` : ''}` });
  }

  if (options.proxychainsConf !== undefined) {
    const { readProxychainsConf, matchLocalnet, proxychainsAlternative } = await import('./proxychains.ts');
    const conf = (state.proxychains ??= readProxychainsConf(options.proxychainsConf));
    warnings.push(...conf.warnings);
    const exempt = flagNoProxy();
    if (exempt) return plan(exempt);
    const localnet = matchLocalnet(conf, target);
    if (localnet !== undefined) {
      return plan({ hops: [], source: '--proxychains-conf', reason: `${where} is in "localnet ${localnet}" of ${conf.file}` });
    }
    return plan(proxychainsAlternative(conf));
  }

  const reading = readEnvironment(options.env);
  warnings.push(...reading.warnings);
  const loopback = isLoopbackTarget(target.host);
  const loopbackDirect = (what: string): RouteAlternative => ({
    hops: [],
    source: 'loopback',
    reason: `${target.host} is a loopback target: ${what} never apply to it (as with proxies from the environment: Go's rule, which tsh follows); use --proxy, or a config rule that names it exactly, to force one`,
  });

  if (reading.proxy && reading.proxy.name.toUpperCase() === 'BURROW_PROXY') {
    return plan(environmentRoute(target, reading.proxy, reading.noProxy, options, warnings));
  }

  const exempt = flagNoProxy();
  if (config) {
    const matched = matchRules(config.rules, target);
    if (matched && (!loopback || namesTargetExactly(matched.pattern))) {
      if (exempt) return plan(exempt);
      const { rule, pattern } = matched;
      const ports = rule.ports.length ? `ports ${formatPorts(rule.ports)}` : 'any port';
      const what = `rule ${rule.index}${rule.name ? ` (${rule.name})` : ''} at ${config.file}:${rule.line}`;
      const count = rule.action.alternatives.length;
      return done(
        rule.action.alternatives.map((hops, i) => ({
          hops,
          source: 'config',
          reason: `${where} matches "${pattern.text}" (${ports}) of ${what}: ${describe(hops)}${count > 1 ? `, alternative ${i + 1} of ${count}` : ''}`,
          rule: { file: config.file, line: rule.line, rule: rule.index, hosts: rule.hosts.map((h) => h.text), ports: rule.ports.length ? formatPorts(rule.ports) : '*' },
        })),
      );
    }
  }

  const pacSetting = options.pac !== undefined
    ? { location: options.pac, from: '--pac' }
    : options.env.BURROW_PAC
      ? { location: options.env.BURROW_PAC, from: 'BURROW_PAC' }
      : config?.pac
        ? { location: config.pac.location, from: `pac: in ${config.file}:${config.pac.line}` }
        : undefined;
  if (pacSetting) {
    if (exempt) return plan(exempt);
    if (loopback) return plan(loopbackDirect('PAC files'));
    const timeoutMs = config?.timeouts.pacMs ?? DEFAULT_PAC_TIMEOUT_MS;
    const script = await (state.pac ??= import('./pac.ts').then(({ loadPac }) => loadPac(pacSetting.location, timeoutMs)));
    const evaluation = await script.evaluate(target);
    const { parsePacAnswer } = await import('./pac-result.ts');
    const answer = parsePacAnswer(evaluation.answer);
    const from = pacSetting.from.startsWith('pac:') ? 'config' : pacSetting.from;
    // The script's text reaches the terminal: control characters are made visible.
    for (const problem of answer.problems) warnings.push(printable(`PAC ${pacSetting.location}: ${problem}`));
    for (const alert of evaluation.alerts) warnings.push(printable(`PAC ${pacSetting.location} alert(): ${alert}`));
    const count = answer.entries.length;
    return done(
      answer.entries.map((entry, i) => {
        const hops: ProxyEndpoint[] = entry.kind === 'direct' ? [] : [{ scheme: entry.scheme, host: entry.host, port: entry.port, schemeless: false }];
        return {
          hops,
          source: 'PAC',
          reason: `the PAC file ${pacSetting.location} (from ${pacSetting.from}) answered "${printable(evaluation.answer.trim())}" for ${evaluation.url}: ${describe(hops)}${count > 1 ? `, alternative ${i + 1} of ${count}` : ''}`,
          pac: { location: pacSetting.location, from, url: evaluation.url, answer: evaluation.answer },
        };
      }),
    );
  }

  if (config?.default) {
    if (exempt) return plan(exempt);
    const proxied = config.default.alternatives.some((hops) => hops.length > 0);
    if (loopback && proxied) return plan(loopbackDirect('the config file\'s default proxies'));
    const noProxySource = config.noProxy ? { name: `no_proxy in ${config.file}:${config.noProxy.line}`, value: config.noProxy.value } : reading.noProxy;
    if (noProxySource && proxied) {
      const list = parseNoProxy(noProxySource.value);
      for (const ignored of list.ignored) warnings.push(`${noProxySource.name} entry "${ignored}" has no host and is ignored`);
      const entry = matchNoProxy(list, target.host, target.port);
      if (entry !== undefined) {
        return plan({ hops: [], source: config.noProxy ? 'config' : noProxySource.name, reason: `${where} matches "${entry}" in ${noProxySource.name}` });
      }
    }
    const count = config.default.alternatives.length;
    return done(
      config.default.alternatives.map((hops, i) => ({
        hops,
        source: 'config',
        reason: `no rule of ${config.file} matches ${where}; its default (line ${config.default!.line}): ${describe(hops)}${count > 1 ? `, alternative ${i + 1} of ${count}` : ''}`,
        rule: { file: config.file, line: config.default!.line, rule: 'default' as const },
      })),
    );
  }

  if (!reading.proxy) {
    return plan({ hops: [], source: 'default', reason: 'no proxy is configured (BURROW_PROXY, HTTPS_PROXY, ALL_PROXY and HTTP_PROXY are unset)' });
  }
  return plan(environmentRoute(target, reading.proxy, reading.noProxy, options, warnings));
}

/** BURROW_PROXY or a standard variable, with the loopback rule and NO_PROXY (or --no-proxy). */
function environmentRoute(target: Target, proxy: EnvironmentValue, noProxy: EnvironmentValue | undefined, options: RouteOptions, warnings: string[]): RouteAlternative {
  const where = formatTarget(target);
  const { name, value } = proxy;
  // BURROW_PROXY may name a chain: comma-separated URLs, first hop first.
  const texts = name.toUpperCase() === 'BURROW_PROXY' ? value.split(',').filter((t) => t.trim() !== '') : [value];
  if (texts.length === 0) throw usageError(`${name} is set but names no proxy ("${value}")`, `unset ${name}, or give it a proxy URL`);
  const hops = texts.map((text) => parseProxyUrl(text, name));
  warnings.push(...hopWarnings(hops, name));

  if (isLoopbackTarget(target.host)) {
    return {
      hops: [],
      source: 'loopback',
      reason: `${target.host} is a loopback target: proxies from the environment never apply to it (Go's rule, which tsh follows); use --proxy to force one`,
    };
  }
  const noProxySource = options.noProxy !== undefined ? { name: '--no-proxy', value: options.noProxy } : noProxy;
  if (noProxySource) {
    const list = parseNoProxy(noProxySource.value);
    for (const ignored of list.ignored) warnings.push(`${noProxySource.name} entry "${ignored}" has no host and is ignored`);
    const entry = matchNoProxy(list, target.host, target.port);
    if (entry !== undefined) {
      return { hops: [], source: noProxySource.name, reason: `${where} matches "${entry}" in ${noProxySource.name}` };
    }
  }
  const via = hops.map(displayProxy).join(' then ');
  const exception = noProxySource ? `, and no ${noProxySource.name} entry matches ${where}` : '';
  return { hops, source: name, reason: `${name} is set to ${via}${exception}` };
}

function describe(hops: ProxyEndpoint[]): string {
  return hops.length === 0 ? 'direct' : hops.map(displayProxy).join(' then ');
}

/** $XDG_CONFIG_HOME/burrow/config.yaml, else ~/.config/burrow/config.yaml (XDG's default). */
export function defaultConfigPath(env: Environment): string | undefined {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'burrow', 'config.yaml');
  const home = env.HOME || (env === process.env ? process.getBuiltinModule('node:os').homedir() : undefined);
  return home ? join(home, '.config', 'burrow', 'config.yaml') : undefined;
}

// The common case — no config file — costs one failed open(); the YAML parser and config.ts load only when a file
// is there.
export async function loadConfig(options: RouteOptions): Promise<BurrowConfig | undefined> {
  const explicit = options.configFile !== undefined;
  const file = explicit ? options.configFile! : defaultConfigPath(options.env);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!explicit && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    throw new BurrowError('usage', `cannot read the config file ${file}: ${code ?? String(error)}`, {
      hint: explicit ? 'check the --config path' : 'fix its permissions, or give another file with --config',
    });
  }
  const { parseConfig } = await import('./config.ts');
  return parseConfig(text, file);
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
