import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Log } from '../log.ts';
import { configSecrets } from '../credentials/config.ts';
import { withCredentials } from '../credentials/lookup.ts';
import type { DialOptions } from '../dial/dial.ts';
import { sourceText, type RoutePlan, type RouteSourceKind } from '../route/plan.ts';
import { policyFor, type RouteOptions } from '../route/policy.ts';
import { formatHostPort } from '../route/target.ts';
import { maskSecrets, registerSecret } from '../secrets.ts';
import { discoverAddress, withProxyPort, type TeleportAddress } from '../teleport/address.ts';
import { describeSeenAuth, goNoProxy, goProxyUrl, tshCannotAuthenticate, tshCannotUse } from '../teleport/go-env.ts';
import { probeKey, probeStore, type ProbeVerdict } from '../teleport/probe-cache.ts';
import { checkSshPort } from '../teleport/ssh-port-check.ts';
import { CONN_UPGRADE_VARIABLE } from '../teleport/tls-routing-check.ts';
import { bridgeEnvironment, environmentChanges, inBothCases, isProxyVariable, scrubEnvironment, type BridgeAddress } from './env.ts';
import { runChild, startBridge, upstreamSecrets } from './exec.ts';
import { formatHops } from '../route/proxy-url.ts';

// `burrow tsh [opts] -- [TSH ARGS…]` (REFERENCE.md §1, §6). tsh is Go: it honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY
// with Go's rules, speaks http/https/socks5, sends Basic from the URL up front and treats a 407 as an error.
// - Passthrough: when tsh can really use the route itself — direct, or one http/https proxy (credentials, if any, in
//   its URL) that burrow saw accept tsh's way of talking when it last dialed it (no authentication, or Basic) —
//   burrow exports the route for Go: both variables, both cases, NO_PROXY in Go syntax. This is the one case where
//   the upstream proxy's URL, credentials included, reaches a child: tsh must authenticate to the proxy itself.
// - Otherwise (a proxy that asked for NTLM/Negotiate/Digest, one not yet seen, socks5 by default, chains,
//   socks4/socks5h, credentials from ~/.netrc or BURROW_PROXY_USER, a private CA, PAC/config/proxychains routes) tsh
//   runs through the per-run bridge, as `burrow exec` does, and never sees the upstream credentials.
// - The check (teleport/ssh-port-check.ts, remembered for a few minutes) asks /webapi/ping through the route, which
//   also shows what the proxy demands. With TLS routing off, when the proxy refuses the SSH port while a direct
//   connection works, HOST:PORT goes into tsh's NO_PROXY (ECMWF's advice, automated). With TLS routing on, when
//   Teleport's ALPN does not survive the route, tsh gets TELEPORT_TLS_ROUTING_CONN_UPGRADE=true (unless set).

export interface TshOptions {
  tsh?: string;
  noProbe: boolean;
  dryRun: boolean;
  routeOptions: RouteOptions;
  dialOptions: DialOptions;
  log: Log;
  quiet: boolean;
}

// The route sources a Go program reads from proxy variables alone (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
const VARIABLE_KINDS: ReadonlySet<RouteSourceKind> = new Set(['flag-direct', 'flag-proxy', 'burrow-proxy', 'environment', 'loopback', 'none']);

/** Why tsh cannot follow the route from variables alone, or undefined when it can. */
export function routeSourceTshCannotRead(routeOptions: RouteOptions, plan: RoutePlan | undefined): string | undefined {
  if (routeOptions.pac) return 'a PAC file (tsh cannot read it)';
  if (routeOptions.proxychainsConf) return 'a proxychains list (tsh cannot read it)';
  if (routeOptions.configFile) return `burrow's config file ${routeOptions.configFile} (tsh cannot read it)`;
  if (!plan) return undefined;
  if (plan.alternatives.length > 1) return `a route with ${plan.alternatives.length} alternatives (tsh takes one proxy)`;
  const source = plan.alternatives[0]?.source;
  const readable = source && (VARIABLE_KINDS.has(source.kind) || (source.kind === 'no-proxy' && source.list.from !== 'config'));
  if (source && !readable) return `a route from ${sourceText(source)} (tsh reads only HTTPS_PROXY/HTTP_PROXY/NO_PROXY)`;
  return undefined;
}

export function findExecutable(name: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (name.includes('/') || name.includes('\\')) return name;
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const candidate of names) {
      const path = join(dir, candidate);
      try {
        accessSync(path, fsConstants.X_OK);
        return path;
      } catch {
        // next
      }
    }
  }
  return undefined;
}

export interface TshPlan {
  tsh: string;
  args: string[];
  mode: 'direct' | 'passthrough' | 'bridge';
  why: string;
  address?: TeleportAddress;
  /** The route burrow's policy gives the Teleport proxy's address. */
  route?: RoutePlan;
  probe?: ProbeVerdict & { cached?: boolean };
  /** Set when burrow sets TELEPORT_TLS_ROUTING_CONN_UPGRADE=true for tsh: the one line that says why. */
  connUpgrade?: string;
  /** The NO_PROXY entries added by the probe. */
  addedNoProxy: string[];
  /** The route options the bridge uses (with added NO_PROXY entries). */
  bridgeRouteOptions: RouteOptions;
  /** Builds the child's environment, given the bridge (bridge mode only). */
  environment(bridge?: BridgeAddress): Record<string, string>;
}

export async function planTsh(tshArgs: string[], options: TshOptions): Promise<TshPlan> {
  const { routeOptions, log } = options;
  const env = routeOptions.env;
  const tsh = options.tsh ?? findExecutable('tsh', env) ?? 'tsh';
  const address = discoverAddress(tshArgs, env);
  const args = withProxyPort(tshArgs);
  const extraEnv: Record<string, string> = {};
  if (address && !address.hadPort && address.source === 'TELEPORT_PROXY') extraEnv.TELEPORT_PROXY = formatHostPort(address.host, 443);

  const policy = await policyFor(routeOptions);
  // The proxy tsh would be given for a target no NO_PROXY entry exempts, and the NO_PROXY list that goes with it.
  const chain = policy.proxyVariables();
  const chainSource = sourceText(chain.source);
  const hop = chain.hops[0];
  const fromElsewhere = hop !== undefined && hop.username === undefined && hop.password === undefined && withCredentials(hop, env).source !== undefined;
  const privateCa = Boolean(options.dialOptions.tls?.proxyCa || options.dialOptions.tls?.insecure);
  let cannot = tshCannotUse(chain.hops, { credentialsFromElsewhere: fromElsewhere, privateCa });
  // Routes tsh cannot read from variables (a PAC file, burrow's config file, a proxychains list, failover between
  // alternatives) go through the bridge, whatever the variables say.
  // The route burrow takes to the Teleport proxy: the bridge dials it, and --dry-run shows it.
  const route = address ? await policy.resolve({ host: address.host, port: address.port }) : undefined;
  const elsewhere = routeSourceTshCannotRead(routeOptions, route);
  if (elsewhere) cannot = elsewhere;

  // The check (or what it found within the cache period): the SSH port, what the proxy demanded, TLS routing.
  let probe: TshPlan['probe'];
  if (address) {
    const store = probeStore(env);
    // Every hop the check may authenticate to: the proxy tsh would be given and those of burrow's route to the cluster.
    const key = probeKey(env, address, chain.hops, chain.noProxy, [...chain.hops, ...(route?.alternatives.flatMap((alternative) => alternative.hops) ?? [])]);
    const cached = store.get(key)?.value;
    if (cached) probe = { ...cached, cached: true };
    else if (!options.noProbe) {
      probe = await checkSshPort(address, routeOptions, options.dialOptions);
      if (probe.verdict !== 'unknown') store.set(key, probe);
    }
    if (probe) log.debug('tsh SSH-port check', { ...probe });
  }
  // One http(s) proxy tsh could speak to: passthrough only if burrow has seen it accept tsh's way of talking.
  if (!cannot && hop) {
    const why = !address ? 'no Teleport address to check it with' : options.noProbe && !probe ? '--no-probe, and nothing remembered' : 'the check did not get an answer through it';
    cannot = tshCannotAuthenticate(hop, probe?.proxyAuth, why);
  }
  const mode: TshPlan['mode'] = cannot ? 'bridge' : chain.hops.length === 0 ? 'direct' : 'passthrough';
  const why =
    mode === 'direct'
      ? `no proxy (${chainSource})`
      : mode === 'passthrough'
        ? `${formatHops(chain.hops)} from ${chainSource}: tsh uses it itself; ${probe?.proxyAuth ? describeSeenAuth(probe.proxyAuth) : 'it is a socks5 proxy'}`
        : `${chain.hops.length ? `${formatHops(chain.hops)} from ${chainSource}` : 'the route'} is ${cannot}: tsh goes through burrow's bridge`;

  // TLS routing through something that strips Teleport's ALPN: tsh needs the connection upgrade.
  let connUpgrade: TshPlan['connUpgrade'];
  if (probe?.connUpgrade && env[CONN_UPGRADE_VARIABLE] === undefined) {
    extraEnv[CONN_UPGRADE_VARIABLE] = 'true';
    connUpgrade = `TLS routing through ${formatHops(chain.hops)}: ${probe.tlsRoutingSeen ?? 'Teleport\'s ALPN does not survive the route'}; set ${CONN_UPGRADE_VARIABLE}=true for tsh (its connection upgrade)`;
  }
  const addedNoProxy = probe?.verdict === 'direct' && probe.noProxyEntry ? [probe.noProxyEntry] : [];
  const bridgeRouteOptions: RouteOptions = addedNoProxy.length
    ? { ...routeOptions, noProxy: goNoProxy([chain.noProxy, ...addedNoProxy]) }
    : routeOptions;

  const secrets = [...upstreamSecrets(routeOptions), ...(await configSecrets(routeOptions))];
  const environment = (bridge?: BridgeAddress): Record<string, string> => {
    if (mode === 'bridge') {
      if (!bridge) throw new Error('bridge mode needs the bridge');
      const scrubbed = scrubEnvironment(env, secrets);
      return bridgeEnvironment(scrubbed.env, bridge, extraEnv);
    }
    const base: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) if (value !== undefined && !isProxyVariable(name)) base[name] = value;
    if (mode === 'direct') return { ...base, ...extraEnv };
    const url = goProxyUrl(hop!);
    if (hop!.password) registerSecret(url);
    const noProxy = goNoProxy([chain.noProxy, ...addedNoProxy]);
    return { ...base, ...inBothCases(['HTTPS_PROXY', 'HTTP_PROXY'], url), ...(noProxy ? inBothCases(['NO_PROXY'], noProxy) : {}), ...extraEnv };
  };
  return { tsh, args, mode, why, ...(address ? { address } : {}), ...(route ? { route } : {}), ...(probe ? { probe } : {}), ...(connUpgrade ? { connUpgrade } : {}), addedNoProxy, bridgeRouteOptions, environment };
}

/** --dry-run's text: the mode, the check, the variables that change and the command line, credentials masked. */
export function describeTshPlan(plan: TshPlan, parentEnv: Readonly<Record<string, string | undefined>>): string {
  const placeholder: BridgeAddress = { host: '127.0.0.1', port: 0, user: 'burrow', password: 'BRIDGE-TOKEN' };
  const env = plan.environment(plan.mode === 'bridge' ? placeholder : undefined);
  const lines = [
    `tsh: ${plan.tsh}`,
    `teleport proxy: ${plan.address ? `${formatHostPort(plan.address.host, plan.address.port)} (from ${plan.address.source})` : 'unknown (no --proxy, TELEPORT_PROXY or current profile)'}`,
    `route: ${plan.mode}: ${plan.why}`,
  ];
  const first = plan.route?.alternatives[0];
  if (first) lines.push(`burrow's route to it: ${formatHops(first.hops)} (from ${sourceText(first.source)})`);
  if (plan.probe) {
    const p = plan.probe;
    const asked = p.proxyAuth ? `, the proxy asked for ${p.proxyAuth.scheme === 'none' ? 'nothing' : p.proxyAuth.scheme}` : '';
    lines.push(`ssh-port check${p.cached ? ' (cached)' : ''}: ${p.verdict}${p.tlsRouting ? ', TLS routing on' : ''}${p.sshAddress ? `, ssh address ${p.sshAddress}` : ''}${asked}${p.message ? `: ${p.message}` : ''}`);
    if (p.tlsRouting && p.tlsRoutingSeen) lines.push(`tls-routing check: ${p.connUpgrade ? 'connection upgrade needed' : 'ALPN works'}: ${p.tlsRoutingSeen}`);
  }
  lines.push('environment (proxy variables as tsh gets them, and other changes):');
  const changed = new Map(environmentChanges(parentEnv, env));
  for (const [name, value] of Object.entries(env)) if (isProxyVariable(name)) changed.set(name, value);
  for (const [name, value] of [...changed].sort(([a], [b]) => a.localeCompare(b))) {
    const shown = value === undefined ? '(unset)' : value.replace('BRIDGE-TOKEN', '***').replace(':0', ':<port>');
    lines.push(`  ${name}=${shown}`);
  }
  lines.push(`argv: ${[plan.tsh, ...plan.args].map((w) => (/[\s'"]/.test(w) ? JSON.stringify(w) : w)).join(' ')}`);
  return maskSecrets(lines.join('\n'));
}

export async function runTsh(tshArgs: string[], options: TshOptions): Promise<number> {
  const { log } = options;
  const plan = await planTsh(tshArgs, options);
  const tell = (text: string) => {
    if (!options.quiet) process.stderr.write(`burrow: ${maskSecrets(text)}\n`);
  };
  if (options.dryRun) {
    process.stdout.write(`${describeTshPlan(plan, options.routeOptions.env)}\n`); // stdout-ok: --dry-run's answer
    return 0;
  }
  // Said once per cache period: in a ProxyCommand (`tsh proxy ssh`), stderr shows on every session.
  if (plan.probe?.verdict === 'direct' && plan.probe.message) (plan.probe.cached ? log.info : tell)(plan.probe.message);
  if (plan.connUpgrade) (plan.probe?.cached ? log.info : tell)(plan.connUpgrade);
  else if (plan.probe?.verdict === 'neither' && plan.probe.message) tell(`warning: ${plan.probe.message}`);
  else if (plan.probe?.verdict === 'unknown' && plan.probe.message) log.info(`tsh SSH-port check skipped: ${plan.probe.message}`);
  log.info(`tsh route: ${plan.mode}: ${plan.why}`);
  if (plan.mode !== 'bridge') return runChild(plan.tsh, plan.args, plan.environment(), log);
  const bridge = await startBridge(plan.bridgeRouteOptions, options.dialOptions, log, 'tsh bridge');
  try {
    return await runChild(plan.tsh, plan.args, plan.environment(bridge.address), log);
  } finally {
    await bridge.close();
  }
}
