// The route policy (issue #9; Go's httpproxy.Config.ProxyFunc is the model: parse once, then a pure walk).
//
//   const policy = await loadRoutePolicy(options);   // reads the config file, then compileRoutePolicy(...)
//   const policy = compileRoutePolicy(flags, env, config);
//   const plan = await policy.resolve(target);        // Target -> RoutePlan, with a typed source and a reason
//
// compileRoutePolicy reads the flags, BURROW_PROXY, the config file's rules and default, the PAC setting,
// proxychains.conf and the proxy variables one time, and returns `policy.sources`: an ordered list of typed sources,
// each with its own matcher (`decide`). resolve() walks the list; the first source that decides wins. Precedence
// (DESIGN.md, refined in the README): --direct; --proxy; --proxychains-conf; BURROW_PROXY; a config rule; a PAC file;
// the config's default; HTTPS_PROXY, ALL_PROXY, HTTP_PROXY; nothing (direct).
//
// NO_PROXY lives in one place (noProxyExemption: --no-proxy, the variable, or the config's no_proxy:), and so does
// the loopback rule (loopbackRoute): environment proxies, PAC answers and the config's default never apply to
// localhost or a loopback IP; --proxy, proxychains and a config rule that names the target exactly may.
//
// Every command asks the same policy: connect and route resolve one target; forward compiles once and resolves per
// connection (policyFor memoises per RouteOptions object); exec, tsh (proxyVariables) and doctor (namedProxies) too.
//
// Extending it:
// - a new source (e.g. desktop proxy settings, 'system', consulted only when nothing else decides) is one more
//   entry of compileSources(), placed before 'none', with its own `kind` in RouteSource (plan.ts);
// - the PAC source takes `pacMemory` (RouteOptions): remembered answers are looked up before the script runs and
//   stored after, without touching the walk.
// Time limits are not route data: `policy.timeouts` holds the config file's, and the caller folds them into its
// dial options (withConfigTimeouts in dial/context.ts).

import type { BurrowConfig } from './config.ts';
import { loadConfig } from './config-file.ts';
import { readEnvironment, readVariable, proxyTexts, type Environment, type EnvironmentValue } from './environment.ts';
import { isLoopbackTarget, matchNoProxy, parseNoProxy, type NoProxyList } from './no-proxy.ts';
import type { NoProxyName, RouteAlternative, RoutePlan, RouteSource } from './plan.ts';
import type { PacScript } from './pac.ts';
import type { ProxychainsConf } from './proxychains.ts';
import { displayProxy, formatHops, parseProxyUrl, type ProxyEndpoint } from './proxy-url.ts';
import { formatPorts, matchRules, namesTargetExactly } from './rules.ts';
import { formatTarget, printable, type Target } from './target.ts';
import { usageError } from '../errors.ts';

/** The command-line side of routing, plus the environment it reads. */
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
  /** Remembered PAC answers, consulted before the script runs (see the module comment). */
  pacMemory?: PacMemory;
}

export type RouteFlags = Omit<RouteOptions, 'env'>;

export interface PacMemory {
  recall(location: string, url: string): string | undefined;
  remember(location: string, url: string, answer: string): void;
}

export const DEFAULT_PAC_TIMEOUT_MS = 10_000;

/** One entry of the walk: its kind, and the matcher that decides for a target or passes (undefined). */
export interface PolicySource {
  kind: RouteSource['kind'];
  decide(target: Target, walk: Walk): Promise<RouteAlternative[] | undefined> | RouteAlternative[] | undefined;
}

/** What one resolve() collects as it walks. */
export interface Walk {
  warnings: string[];
}

export interface RoutePolicy {
  readonly sources: readonly PolicySource[];
  /** The config file's time limits (command-line options win over them). */
  readonly timeouts: { connectMs?: number; alternativeMs?: number };
  resolve(target: Target): Promise<RoutePlan>;
  /** Every proxy (or chain) the user named by flag or variable, in precedence order (doctor tries each). */
  namedProxies(): Array<{ hops: ProxyEndpoint[]; source: RouteSource }>;
  /**
   * The route as proxy variables can say it, for a Go program (tsh) given HTTPS_PROXY and NO_PROXY: the proxy from
   * --direct, --proxy, BURROW_PROXY or the standard variables, before NO_PROXY, and the NO_PROXY list that applies.
   */
  proxyVariables(): { hops: ProxyEndpoint[]; source: RouteSource; noProxy?: string };
}

const policies = new WeakMap<RouteOptions, Promise<RoutePolicy>>();

/** The policy for these options, compiled on first use and shared by every later call with the same object. */
export function policyFor(options: RouteOptions): Promise<RoutePolicy> {
  let policy = policies.get(options);
  if (!policy) {
    policy = loadRoutePolicy(options);
    policies.set(options, policy);
  }
  return policy;
}

/** Target -> RoutePlan through the options' policy (compiled once per options object). */
export async function resolveRoute(target: Target, options: RouteOptions): Promise<RoutePlan> {
  return (await policyFor(options)).resolve(target);
}

export async function loadRoutePolicy(options: RouteOptions): Promise<RoutePolicy> {
  const { env, ...flags } = options;
  return compileRoutePolicy(flags, env, await loadConfig(options.configFile, env));
}

export function compileRoutePolicy(flags: RouteFlags, env: Environment, config: BurrowConfig | undefined): RoutePolicy {
  const reading = readEnvironment(env);
  const flagNoProxy = flags.noProxy !== undefined ? noProxyRule({ from: 'flag', name: '--no-proxy' }, flags.noProxy) : undefined;
  const envNoProxy = reading.noProxy ? noProxyRule({ from: 'environment', name: reading.noProxy.name }, reading.noProxy.value) : undefined;
  const sources = compileSources(flags, env, config, reading.proxy, flagNoProxy, envNoProxy);
  // --direct, --proxy and --proxychains-conf always decide: past them, the environment's warnings are the plan's.
  const explicit = sources[0] && ['flag-direct', 'flag-proxy', 'proxychains'].includes(sources[0].kind);
  const baseWarnings = [...(config?.warnings ?? []), ...(explicit ? [] : reading.warnings)];
  const credentials = config && config.credentials.length > 0 ? { file: config.file, credentials: config.credentials } : undefined;
  const timeouts = {
    ...(config?.timeouts.connectMs !== undefined ? { connectMs: config.timeouts.connectMs } : {}),
    ...(config?.timeouts.alternativeMs !== undefined ? { alternativeMs: config.timeouts.alternativeMs } : {}),
  };

  const variableProxies = once(() => {
    const found: Array<{ hops: ProxyEndpoint[]; source: RouteSource }> = [];
    for (const upper of ['BURROW_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'HTTP_PROXY']) {
      const variable = readVariable(env, upper, []);
      if (!variable) continue;
      const kind = upper === 'BURROW_PROXY' ? ('burrow-proxy' as const) : ('environment' as const);
      found.push({ hops: parseVariableHops(variable), source: { kind, variable: variable.name } });
    }
    return found;
  });
  const flagHops = once(() => parseFlagHops(flags.proxies ?? []));

  return {
    sources,
    timeouts,
    async resolve(target) {
      const walk: Walk = { warnings: [...baseWarnings] };
      for (const source of sources) {
        const alternatives = await source.decide(target, walk);
        if (alternatives) return { target, alternatives, warnings: walk.warnings, ...(credentials ? { credentials } : {}) };
      }
      throw new Error('the route policy has no final source'); // 'none' always decides
    },
    namedProxies() {
      if (flags.direct) return [];
      return [...(flags.proxies?.length ? [{ hops: flagHops(), source: { kind: 'flag-proxy' as const } }] : []), ...variableProxies()];
    },
    proxyVariables() {
      if (flags.direct) return { hops: [], source: { kind: 'flag-direct' } };
      if (flags.proxies?.length) return { hops: flagHops(), source: { kind: 'flag-proxy' }, ...(flags.noProxy !== undefined ? { noProxy: flags.noProxy } : {}) };
      const noProxy = flags.noProxy ?? reading.noProxy?.value;
      const first = variableProxies()[0];
      return { ...(first ?? { hops: [], source: { kind: 'none' as const } }), ...(noProxy !== undefined ? { noProxy } : {}) };
    },
  };
}

function compileSources(
  flags: RouteFlags,
  env: Environment,
  config: BurrowConfig | undefined,
  proxyVariable: EnvironmentValue | undefined,
  flagNoProxy: NoProxyRule | undefined,
  envNoProxy: NoProxyRule | undefined,
): PolicySource[] {
  const sources: PolicySource[] = [];
  // --no-proxy exempts a target from every source below; for BURROW_PROXY and the variables it is their NO_PROXY
  // list (and its unusable entries are warned about there).
  const exempt = (target: Target, walk: Walk) => noProxyExemption(flagNoProxy, target, walk, { warn: false });

  if (flags.direct) {
    sources.push({ kind: 'flag-direct', decide: () => [{ hops: [], source: { kind: 'flag-direct' }, reason: '--direct was given' }] });
    return sources;
  }

  if (flags.proxies && flags.proxies.length > 0) {
    const hops = once(() => parseFlagHops(flags.proxies!));
    sources.push({
      kind: 'flag-proxy',
      decide: (target, walk) => {
        const chain = hops();
        walk.warnings.push(...hopWarnings(chain, '--proxy'));
        const exemption = exempt(target, walk);
        if (exemption) return [exemption];
        return [{ hops: chain, source: { kind: 'flag-proxy' }, reason: `--proxy was given${chain.length > 1 ? ` (a chain of ${chain.length} hops)` : ''}` }];
      },
    });
    return sources;
  }

  if (flags.proxychainsConf !== undefined) {
    const file = flags.proxychainsConf;
    let conf: Promise<{ conf: ProxychainsConf; module: typeof import('./proxychains.ts') }> | undefined;
    sources.push({
      kind: 'proxychains',
      decide: async (target, walk) => {
        const { conf: parsed, module } = await (conf ??= import('./proxychains.ts').then((module) => ({ module, conf: module.readProxychainsConf(file) })));
        walk.warnings.push(...parsed.warnings);
        const exemption = exempt(target, walk);
        if (exemption) return [exemption];
        const localnet = module.matchLocalnet(parsed, target);
        if (localnet !== undefined) {
          return [{ hops: [], source: { kind: 'proxychains' }, reason: `${formatTarget(target)} is in "localnet ${localnet}" of ${parsed.file}` }];
        }
        return [module.proxychainsAlternative(parsed)];
      },
    });
    return sources;
  }

  if (proxyVariable && proxyVariable.name.toUpperCase() === 'BURROW_PROXY') {
    sources.push(environmentSource('burrow-proxy', proxyVariable, flagNoProxy ?? envNoProxy));
  }

  if (config && config.rules.length > 0) {
    sources.push({
      kind: 'config-rule',
      decide: (target, walk) => {
        const matched = matchRules(config.rules, target);
        if (!matched || (isLoopbackTarget(target.host) && !namesTargetExactly(matched.pattern))) return undefined;
        const exemption = exempt(target, walk);
        if (exemption) return [exemption];
        const { rule, pattern } = matched;
        const ports = rule.ports.length ? `ports ${formatPorts(rule.ports)}` : 'any port';
        const what = `rule ${rule.index}${rule.name ? ` (${rule.name})` : ''} at ${config.file}:${rule.line}`;
        const count = rule.action.alternatives.length;
        return rule.action.alternatives.map((hops, i) => ({
          hops,
          source: { kind: 'config-rule' as const },
          reason: `${formatTarget(target)} matches "${pattern.text}" (${ports}) of ${what}: ${describe(hops)}${count > 1 ? `, alternative ${i + 1} of ${count}` : ''}`,
          rule: { file: config.file, line: rule.line, rule: rule.index, hosts: rule.hosts.map((h) => h.text), ports: rule.ports.length ? formatPorts(rule.ports) : '*' },
        }));
      },
    });
  }

  const pacSetting =
    flags.pac !== undefined
      ? { location: flags.pac, from: '--pac' }
      : env.BURROW_PAC
        ? { location: env.BURROW_PAC, from: 'BURROW_PAC' }
        : config?.pac
          ? { location: config.pac.location, from: `pac: in ${config.file}:${config.pac.line}` }
          : undefined;
  if (pacSetting) sources.push(pacSource(pacSetting, config?.timeouts.pacMs ?? DEFAULT_PAC_TIMEOUT_MS, exempt, flags.pacMemory));

  const configDefault = config?.default;
  if (config && configDefault) {
    const proxied = configDefault.alternatives.some((hops) => hops.length > 0);
    const defaultNoProxy = config.noProxy ? noProxyRule({ from: 'config', name: `no_proxy in ${config.file}:${config.noProxy.line}` }, config.noProxy.value) : envNoProxy;
    sources.push({
      kind: 'config-default',
      decide: (target, walk) => {
        const exemption = exempt(target, walk);
        if (exemption) return [exemption];
        if (proxied && isLoopbackTarget(target.host)) return [loopbackRoute(target, 'the config file\'s default proxies')];
        const listed = proxied ? noProxyExemption(defaultNoProxy, target, walk) : undefined;
        if (listed) return [listed];
        const count = configDefault.alternatives.length;
        return configDefault.alternatives.map((hops, i) => ({
          hops,
          source: { kind: 'config-default' as const },
          reason: `no rule of ${config.file} matches ${formatTarget(target)}; its default (line ${configDefault.line}): ${describe(hops)}${count > 1 ? `, alternative ${i + 1} of ${count}` : ''}`,
          rule: { file: config.file, line: configDefault.line, rule: 'default' as const },
        }));
      },
    });
  }

  if (proxyVariable && proxyVariable.name.toUpperCase() !== 'BURROW_PROXY') {
    sources.push(environmentSource('environment', proxyVariable, flagNoProxy ?? envNoProxy));
  }
  sources.push({
    kind: 'none',
    decide: () => [{ hops: [], source: { kind: 'none' }, reason: 'no proxy is configured (BURROW_PROXY, HTTPS_PROXY, ALL_PROXY and HTTP_PROXY are unset)' }],
  });
  return sources;
}

/** BURROW_PROXY or a standard variable, with the loopback rule and NO_PROXY (or --no-proxy). */
function environmentSource(kind: 'burrow-proxy' | 'environment', variable: EnvironmentValue, noProxy: NoProxyRule | undefined): PolicySource {
  const hops = once(() => parseVariableHops(variable));
  return {
    kind,
    decide: (target, walk) => {
      const chain = hops();
      walk.warnings.push(...hopWarnings(chain, variable.name));
      if (isLoopbackTarget(target.host)) return [loopbackRoute(target, 'environment')];
      const exemption = noProxyExemption(noProxy, target, walk);
      if (exemption) return [exemption];
      const via = formatHops(chain, ' then ');
      const exception = noProxy ? `, and no ${noProxy.name.name} entry matches ${formatTarget(target)}` : '';
      return [{ hops: chain, source: { kind, variable: variable.name }, reason: `${variable.name} is set to ${via}${exception}` }];
    },
  };
}

function pacSource(setting: { location: string; from: string }, timeoutMs: number, exempt: (target: Target, walk: Walk) => RouteAlternative | undefined, memory: PacMemory | undefined): PolicySource {
  let script: Promise<PacScript> | undefined;
  const from = setting.from.startsWith('pac:') ? 'config' : setting.from;
  return {
    kind: 'pac',
    decide: async (target, walk) => {
      const exemption = exempt(target, walk);
      if (exemption) return [exemption];
      if (isLoopbackTarget(target.host)) return [loopbackRoute(target, 'PAC files')];
      const { pacUrlFor, parsePacAnswer } = await import('./pac-result.ts');
      const url = pacUrlFor(target.host, target.port);
      const remembered = memory?.recall(setting.location, url);
      let evaluation: { url: string; answer: string; alerts: string[] };
      if (remembered !== undefined) evaluation = { url, answer: remembered, alerts: [] };
      else {
        evaluation = await (await (script ??= import('./pac.ts').then(({ loadPac }) => loadPac(setting.location, timeoutMs)))).evaluate(target);
        memory?.remember(setting.location, evaluation.url, evaluation.answer);
      }
      const answer = parsePacAnswer(evaluation.answer);
      // The script's text reaches the terminal: control characters are made visible.
      for (const problem of answer.problems) walk.warnings.push(printable(`PAC ${setting.location}: ${problem}`));
      for (const alert of evaluation.alerts) walk.warnings.push(printable(`PAC ${setting.location} alert(): ${alert}`));
      const count = answer.entries.length;
      return answer.entries.map((entry, i) => {
        const hops: ProxyEndpoint[] = entry.kind === 'direct' ? [] : [{ scheme: entry.scheme, host: entry.host, port: entry.port, schemeless: false }];
        return {
          hops,
          source: { kind: 'pac' as const },
          reason: `the PAC file ${setting.location} (from ${setting.from}) answered "${printable(evaluation.answer.trim())}" for ${evaluation.url}: ${describe(hops)}${count > 1 ? `, alternative ${i + 1} of ${count}` : ''}`,
          pac: { location: setting.location, from, url: evaluation.url, answer: evaluation.answer },
        };
      });
    },
  };
}

// NO_PROXY, in one place: a list parsed once, matched per target; its unusable entries are warned about each time
// a target is checked against it (as each plan carries its own warnings).
interface NoProxyRule {
  name: NoProxyName;
  list: NoProxyList;
}

function noProxyRule(name: NoProxyName, value: string): NoProxyRule {
  return { name, list: parseNoProxy(value) };
}

function noProxyExemption(rule: NoProxyRule | undefined, target: Target, walk: Walk, { warn = true }: { warn?: boolean } = {}): RouteAlternative | undefined {
  if (!rule) return undefined;
  if (warn) for (const ignored of rule.list.ignored) walk.warnings.push(`${rule.name.name} entry "${ignored}" has no host and is ignored`);
  const entry = matchNoProxy(rule.list, target.host, target.port);
  if (entry === undefined) return undefined;
  return { hops: [], source: { kind: 'no-proxy', list: rule.name }, reason: `${formatTarget(target)} matches "${entry}" in ${rule.name.name}` };
}

// The loopback rule, in one place: Go's httpproxy never proxies localhost or a loopback IP from the environment,
// and tsh follows it; burrow extends it to PAC answers and the config's default.
function loopbackRoute(target: Target, what: 'environment' | 'PAC files' | 'the config file\'s default proxies'): RouteAlternative {
  const reason =
    what === 'environment'
      ? `${target.host} is a loopback target: proxies from the environment never apply to it (Go's rule, which tsh follows); use --proxy to force one`
      : `${target.host} is a loopback target: ${what} never apply to it (as with proxies from the environment: Go's rule, which tsh follows); use --proxy, or a config rule that names it exactly, to force one`;
  return { hops: [], source: { kind: 'loopback' }, reason };
}

function parseFlagHops(texts: string[]): ProxyEndpoint[] {
  return texts.map((text, i) => parseProxyUrl(text, texts.length > 1 ? `--proxy #${i + 1}` : '--proxy'));
}

function parseVariableHops(variable: EnvironmentValue): ProxyEndpoint[] {
  const texts = proxyTexts(variable);
  if (texts.length === 0) throw usageError(`${variable.name} is set but names no proxy ("${variable.value}")`, `unset ${variable.name}, or give it a proxy URL`);
  return texts.map((text) => parseProxyUrl(text, variable.name));
}

const describe = (hops: ProxyEndpoint[]): string => formatHops(hops, ' then ');

function hopWarnings(hops: ProxyEndpoint[], origin: string): string[] {
  const warnings: string[] = [];
  for (const hop of hops) {
    if (hop.schemeless) {
      warnings.push(`${origin} has no scheme; it is read as ${displayProxy(hop)} (as Go and curl read it): write the scheme to be sure`);
    }
    if (hop.password !== undefined && origin !== '--proxy') {
      warnings.push(`${origin} carries a password; programs that print their environment will show it (burrow never does)`);
    }
  }
  return warnings;
}

/** A value computed on first use (and a parse error thrown on each use, as when it was parsed per target). */
function once<T>(make: () => T): () => T {
  let done: { value: T } | undefined;
  return () => (done ??= { value: make() }).value;
}
