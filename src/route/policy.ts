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
// the config's default; HTTPS_PROXY, ALL_PROXY, HTTP_PROXY; the desktop's proxy settings; nothing (direct).
//
// NO_PROXY lives in one place (noProxyExemption: --no-proxy, the variable, or the config's no_proxy:), and so does
// the loopback rule (loopbackRoute): environment proxies, PAC answers and the config's default never apply to
// localhost or a loopback IP; --proxy, proxychains and a config rule that names the target exactly may.
//
// Every command asks the same policy: connect and route resolve one target; forward compiles once and resolves per
// connection (policyFor memoises per RouteOptions object); exec, tsh (proxyVariables) and doctor (namedProxies, which
// asks each source for the proxies it names whatever the target: the desktop's manual setting) too.
//
// Extending it:
// - a new source is one more entry of compileSources() (sources.ts) with its own `kind` in RouteSource (plan.ts), as
//   the desktop's proxy settings ('system', consulted only when nothing else decides, placed before 'none') are;
// - the PAC source takes `pacMemory` (RouteOptions): remembered answers are looked up before the script runs and
//   stored after, without touching the walk.
// Time limits are not route data: `policy.timeouts` holds the config file's, and the caller folds them into its
// dial options (routeAndDialFrom in cli/options.ts).

import type { BurrowConfig } from './config.ts';
import { loadConfig } from './config-file.ts';
import { readEnvironment, readVariable, type Environment } from './environment.ts';
import type { RoutePlan, RouteSource } from './plan.ts';
import type { ProxyEndpoint } from './proxy-url.ts';
import { compileSources, noProxyRule, once, parseFlagHops, parseVariableHops, type NamedProxy, type PolicySource, type SourceFlags, type Walk } from './sources.ts';
import type { Target } from './target.ts';
import type { ProxyHeader } from './proxy-headers.ts';

/** The command-line side of routing, plus the environment it reads. */
export interface RouteOptions extends SourceFlags {
  /** --config FILE (must exist). Without it, $XDG_CONFIG_HOME/burrow/config.yaml is read if it exists. */
  configFile?: string;
  env: Environment;
}

export type RouteFlags = Omit<RouteOptions, 'env'>;

export interface RoutePolicy {
  readonly sources: readonly PolicySource[];
  /** The config file's time limits (command-line options win over them). */
  readonly timeouts: { connectMs?: number; alternativeMs?: number };
  /** The config file's extra proxy request headers (headers:); --proxy-header replaces one of the same name. */
  readonly headers: readonly ProxyHeader[];
  resolve(target: Target): Promise<RoutePlan>;
  /**
   * Every proxy (or chain) the user named by flag, variable or the desktop's manual proxy setting (when the policy
   * consults it), in precedence order (doctor tries each). Reads the desktop's settings if a source needs them.
   */
  namedProxies(): Promise<NamedProxy[]>;
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
    const found: NamedProxy[] = [];
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
    headers: config?.headers ?? [],
    async resolve(target) {
      const walk: Walk = { warnings: [...baseWarnings] };
      for (const source of sources) {
        const alternatives = await source.decide(target, walk);
        if (alternatives) return { target, alternatives, warnings: walk.warnings, ...(credentials ? { credentials } : {}) };
      }
      throw new Error('the route policy has no final source'); // 'none' always decides
    },
    async namedProxies() {
      if (flags.direct) return [];
      const fromSources = await Promise.all(sources.map((source) => source.named?.() ?? []));
      return [...(flags.proxies?.length ? [{ hops: flagHops(), source: { kind: 'flag-proxy' as const } }] : []), ...variableProxies(), ...fromSources.flat()];
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
