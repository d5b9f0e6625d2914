import type { BurrowConfig } from './config.ts';
import { proxyTexts, type EnvironmentValue } from './environment.ts';
import { isLoopbackTarget, matchNoProxy, parseNoProxy, type NoProxyList } from './no-proxy.ts';
import type { NoProxyName, PacScriptJson, RouteAlternative, RouteSource } from './plan.ts';
import type { PacScript } from './pac.ts';
import type { PacScriptOrigin } from './pac-scripts.ts';
import type { PacText } from './pac-text.ts';
import type { ProxychainsConf } from './proxychains.ts';
import { isSimpleName } from './system/bypass.ts';
import type { SystemReading } from './system/read.ts';
import { displayProxy, formatHops, parseProxyUrl, type ProxyEndpoint } from './proxy-url.ts';
import { formatPorts, matchRules, namesTargetExactly } from './rules.ts';
import { formatTarget, printable, type Target } from './target.ts';
import { usageError } from '../errors.ts';
import { clockTime } from '../state/store.ts';
import type { Environment } from './environment.ts';

// The sources of the route policy (policy.ts): one constructor per kind, each with its matcher, and the two rules
// that apply across them, NO_PROXY (noProxyExemption) and loopback (loopbackRoute), in one place each.

/** The flags the sources read (RouteOptions without the config file and the environment). */
export interface SourceFlags {
  /** --proxy URLs: a chain, first hop first. Overrides the environment and NO_PROXY from the environment. */
  proxies?: string[];
  /** --direct */
  direct?: boolean;
  /** --no-proxy LIST: replaces NO_PROXY from the environment. */
  noProxy?: string;
  /** --pac FILE|URL (else BURROW_PAC, else pac: in the config file). */
  pac?: string;
  /** --proxychains-conf FILE */
  proxychainsConf?: string;
  /** Remembered PAC answers, consulted before the script runs (see the module comment). */
  pacMemory?: PacMemory;
  /** --fresh: ignore what earlier runs remembered here (PAC answers; a PAC URL's kept script is fetched again). */
  fresh?: boolean;
  /** Reads the desktop's proxy settings (default: system/read.ts on this platform); injected by tests. */
  readSystemProxy?: () => Promise<SystemReading>;
}

export interface PacMemory {
  /**
   * FindProxyForURL's answer for `url` remembered from an earlier run of a PAC with this content (its text), and
   * when it was computed (ms since the epoch).
   */
  recall(content: string, url: string): Promise<{ answer: string; at: number } | undefined> | { answer: string; at: number } | undefined;
  remember(content: string, url: string, answer: string): void;
}

export const DEFAULT_PAC_TIMEOUT_MS = 10_000;

/** One entry of the walk: its kind, and the matcher that decides for a target or passes (undefined). */
export interface PolicySource {
  kind: RouteSource['kind'];
  decide(target: Target, walk: Walk): Promise<RouteAlternative[] | undefined> | RouteAlternative[] | undefined;
  /** The proxies this source names whatever the target (the desktop's manual setting), for doctor; none if absent. */
  named?(): Promise<NamedProxy[]>;
}

/** A proxy (or chain) the user named, and where: what doctor tries for every target. */
export interface NamedProxy {
  hops: ProxyEndpoint[];
  source: RouteSource;
}

/** What one resolve() collects as it walks. */
export interface Walk {
  warnings: string[];
}

export function compileSources(
  flags: SourceFlags,
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
  if (pacSetting) sources.push(pacSource(pacSetting, config?.timeouts.pacMs ?? DEFAULT_PAC_TIMEOUT_MS, exempt, flags, env));

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
  if (!proxyVariable) {
    // Only without a proxy variable (BURROW_PROXY or a standard one always decides): then nothing is read or
    // spawned unless the walk gets here.
    sources.push(systemSource(flags, env, config?.timeouts.pacMs ?? DEFAULT_PAC_TIMEOUT_MS, exempt));
  }
  sources.push({
    kind: 'none',
    decide: () => [{ hops: [], source: { kind: 'none' }, reason: 'no proxy is configured (BURROW_PROXY, HTTPS_PROXY, ALL_PROXY and HTTP_PROXY are unset)' }],
  });
  return sources;
}

/**
 * The desktop's proxy settings (system/): read on the first target that gets this far, once per policy (a run), and
 * how long the reading took is part of the reason `burrow route` shows. Manual settings route like a proxy variable
 * (the loopback rule, --no-proxy, then the desktop's exceptions as a NO_PROXY list); an auto (PAC) setting is the PAC
 * path with the desktop's PAC URL; "none" or unreadable settings pass to 'none'.
 */
function systemSource(flags: SourceFlags, env: Environment, pacTimeoutMs: number, exempt: (target: Target, walk: Walk) => RouteAlternative | undefined): PolicySource {
  let compiled: Promise<{ reading: SystemReading; bypass?: NoProxyRule; pac?: PolicySource }> | undefined;
  const compile = async () => {
    const reading = await (flags.readSystemProxy ?? (() => import('./system/read.ts').then((m) => m.readSystemProxy(m.systemReadOptions(env)))))();
    const settings = reading.settings;
    if (!settings) return { reading };
    const bypass = noProxyRule({ from: 'system', name: settings.bypassName }, settings.bypass.join(','));
    if (settings.mode !== 'auto' || !settings.pacUrl) return { reading, bypass };
    const location = settings.pacUrl.startsWith('file://') ? (await import('node:url')).fileURLToPath(settings.pacUrl) : settings.pacUrl;
    return { reading, bypass, pac: pacSource({ location, from: settings.origin }, pacTimeoutMs, exempt, flags, env) };
  };
  return {
    kind: 'system',
    // A manual setting names one proxy for every target; auto (a PAC URL) names none until a target is asked.
    named: async () => {
      const settings = (await (compiled ??= compile())).reading.settings;
      if (settings?.mode !== 'manual' || !settings.proxy) return [];
      return [{ hops: [parseProxyUrl(settings.proxy, settings.origin)], source: { kind: 'system', origin: settings.origin } }];
    },
    decide: async (target, walk) => {
      const { reading, bypass, pac } = await (compiled ??= compile());
      const settings = reading.settings;
      if (!settings) return undefined;
      walk.warnings.push(...settings.warnings);
      if (settings.mode === 'none') return undefined;
      const read = `read from \`${reading.from}\` in ${reading.ms} ms`;
      const exemption = exempt(target, walk);
      if (exemption) return [exemption];
      if (isLoopbackTarget(target.host)) return [loopbackRoute(target, 'the desktop\'s proxy settings')];
      const listed = noProxyExemption(bypass, target, walk);
      if (listed) return [listed];
      if (settings.bypassSimpleNames && isSimpleName(target.host)) {
        return [{ hops: [], source: { kind: 'no-proxy', list: { from: 'system', name: settings.bypassName } }, reason: `${target.host} has no dot, and ${settings.origin} sends such names direct (<local>, ExcludeSimpleHostnames)` }];
      }
      if (pac) {
        const answered = await pac.decide(target, walk);
        return answered?.map((alternative) => ({ ...alternative, reason: `${alternative.reason} (${settings.origin} say auto, ${read})` }));
      }
      const hops = [parseProxyUrl(settings.proxy!, settings.origin)];
      return [{ hops, source: { kind: 'system', origin: settings.origin }, reason: `no flag, BURROW_PROXY, config, PAC or proxy variable decides; ${settings.origin} name ${describe(hops)} (${read})` }];
    },
  };
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

/**
 * A PAC file or URL. Its text is obtained once per run (pac-text.ts: a file read, or a URL's kept copy or fetch) and
 * shared: the remembered answers are keyed on it, and only when one is missing is the engine loaded (pac.ts).
 */
function pacSource(setting: { location: string; from: string }, timeoutMs: number, exempt: (target: Target, walk: Walk) => RouteAlternative | undefined, flags: Pick<SourceFlags, 'pacMemory' | 'fresh'>, env: Environment): PolicySource {
  const { pacMemory: memory, fresh = false } = flags;
  let loaded: Promise<PacText> | undefined;
  let script: Promise<PacScript> | undefined;
  const from = setting.from.startsWith('pac:') ? 'config' : setting.from;
  return {
    kind: 'pac',
    decide: async (target, walk) => {
      const exemption = exempt(target, walk);
      if (exemption) return [exemption];
      if (isLoopbackTarget(target.host)) return [loopbackRoute(target, 'PAC files')];
      const { pacUrlFor, parsePacAnswer } = await import('./pac-result.ts');
      const pac = await (loaded ??= import('./pac-text.ts').then(({ loadPacText }) => loadPacText(setting.location, timeoutMs, env, { fresh })));
      const url = pacUrlFor(target.host, target.port);
      const remembered = fresh ? undefined : await memory?.recall(pac.text, url);
      let evaluation: { url: string; answer: string; alerts: string[] };
      if (remembered !== undefined) evaluation = { url, answer: remembered.answer, alerts: [] };
      else {
        evaluation = await (await (script ??= import('./pac.ts').then(({ loadPac }) => loadPac(setting.location, pac.text, timeoutMs, env)))).evaluate(target);
        // An answer that came with alert() messages is not remembered: a recalled answer would drop them.
        if (evaluation.alerts.length === 0) memory?.remember(pac.text, evaluation.url, evaluation.answer);
      }
      const provenance = `${pac.origin ? `; ${scriptOriginText(pac.origin)}` : ''}${remembered ? `; PAC answer remembered from ${clockTime(remembered.at)}` : ''}`;
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
          reason: `the PAC file ${setting.location} (from ${setting.from}) answered "${printable(evaluation.answer.trim())}" for ${evaluation.url}: ${describe(hops)}${count > 1 ? `, alternative ${i + 1} of ${count}` : ''}${provenance}`,
          pac: {
            location: setting.location,
            from,
            url: evaluation.url,
            answer: evaluation.answer,
            ...(remembered ? { remembered_at: new Date(remembered.at).toISOString() } : {}),
            ...(pac.origin ? { script: scriptOriginJson(pac.origin) } : {}),
          },
        };
      });
    },
  };
}

/** "PAC script fetched at 14:02, fresh until 15:02", "… kept from 14:02, …", "… revalidated (304) at 14:05, …". */
function scriptOriginText(origin: PacScriptOrigin): string {
  const { how, at, freshUntil } = origin;
  const until = freshUntil === undefined ? ', not kept' : freshUntil > at ? `, fresh until ${clockTime(freshUntil)}` : ', revalidated on each run';
  if (how === 'kept') return `PAC script kept from ${clockTime(at)}${until}`;
  return `PAC script ${how === 'fetched' ? 'fetched' : 'revalidated (304)'} at ${clockTime(at)}${until}`;
}

function scriptOriginJson(origin: PacScriptOrigin): PacScriptJson {
  return { how: origin.how, at: new Date(origin.at).toISOString(), ...(origin.freshUntil !== undefined ? { fresh_until: new Date(origin.freshUntil).toISOString() } : {}) };
}

// NO_PROXY, in one place: a list parsed once, matched per target; its unusable entries are warned about each time
// a target is checked against it (as each plan carries its own warnings).
export interface NoProxyRule {
  name: NoProxyName;
  list: NoProxyList;
}

export function noProxyRule(name: NoProxyName, value: string): NoProxyRule {
  return { name, list: parseNoProxy(value) };
}

function noProxyExemption(rule: NoProxyRule | undefined, target: Target, walk: Walk, { warn = true }: { warn?: boolean } = {}): RouteAlternative | undefined {
  if (!rule) return undefined;
  if (warn) {
    for (const { entry, why } of rule.list.ignored) walk.warnings.push(`${rule.name.name} entry "${printable(entry)}" ${why === 'no host' ? 'has no host' : 'is not a valid host name'} and is ignored`);
  }
  const entry = matchNoProxy(rule.list, target.host, target.port);
  if (entry === undefined) return undefined;
  return { hops: [], source: { kind: 'no-proxy', list: rule.name }, reason: `${formatTarget(target)} matches "${entry}" in ${rule.name.name}` };
}

// The loopback rule, in one place: Go's httpproxy never proxies localhost or a loopback IP from the environment,
// and tsh follows it; burrow extends it to PAC answers and the config's default.
function loopbackRoute(target: Target, what: 'environment' | 'PAC files' | 'the config file\'s default proxies' | 'the desktop\'s proxy settings'): RouteAlternative {
  const reason =
    what === 'environment'
      ? `${target.host} is a loopback target: proxies from the environment never apply to it (Go's rule, which tsh follows); use --proxy to force one`
      : `${target.host} is a loopback target: ${what} never apply to it (as with proxies from the environment: Go's rule, which tsh follows); use --proxy, or a config rule that names it exactly, to force one`;
  return { hops: [], source: { kind: 'loopback' }, reason };
}

export function parseFlagHops(texts: string[]): ProxyEndpoint[] {
  return texts.map((text, i) => parseProxyUrl(text, texts.length > 1 ? `--proxy #${i + 1}` : '--proxy'));
}

export function parseVariableHops(variable: EnvironmentValue): ProxyEndpoint[] {
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
export function once<T>(make: () => T): () => T {
  let done: { value: T } | undefined;
  return () => (done ??= { value: make() }).value;
}
