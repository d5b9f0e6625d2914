import { readFileSync } from 'node:fs';
import { usageError } from '../errors.ts';
import { createLog, type Log } from '../log.ts';
import type { Environment } from '../route/environment.ts';
import { policyFor, type RouteOptions, type RoutePolicy } from '../route/policy.ts';
import type { PacMemory } from '../route/sources.ts';
import type { DialOptions } from '../dial/context.ts';
import { mergeProxyHeaders, parseProxyHeader } from '../route/proxy-headers.ts';
import { AUTH_SCHEMES, type AuthScheme } from '../dial/auth/session.ts';

// The options every command shares (DESIGN.md "Common options"), described once. `connect` feeds this table to
// node:util parseArgs (fast start-up); the other commands feed it to yargs (help text, validation).

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  placeholder?: string;
}

export const COMMON_OPTIONS = {
  proxy: { type: 'string', short: 'x', multiple: true, placeholder: 'URL', description: 'proxy URL; repeat for a chain, first hop first (overrides the environment)' },
  direct: { type: 'boolean', description: 'connect directly, ignoring every proxy setting' },
  'no-proxy': { type: 'string', placeholder: 'LIST', description: 'hosts to reach directly (NO_PROXY syntax, Go rules); replaces NO_PROXY' },
  'connect-timeout': { type: 'string', placeholder: 'SECONDS', description: 'limit for opening the tunnel: DNS, TCP, TLS and every proxy hop (default 20)' },
  'proxy-ca': { type: 'string', placeholder: 'FILE', description: 'extra CA certificates (PEM) to trust for https:// proxies' },
  'proxy-insecure': { type: 'boolean', description: 'do not verify an https:// proxy\'s certificate (unsafe)' },
  'proxy-auth': { type: 'string', placeholder: 'SCHEME', description: 'HTTP proxy authentication: negotiate, ntlm, digest or basic (default: the strongest the proxy offers)' },
  'alternative-timeout': { type: 'string', placeholder: 'SECONDS', description: 'when the route lists several alternatives (PAC, config), give up on each but the last after this long (default 5)' },
  'proxy-header': { type: 'string', multiple: true, placeholder: '"NAME: VALUE"', description: 'an extra header for every request to the proxy (CONNECT and plain HTTP), e.g. "User-Agent: Mozilla/5.0"; repeatable' },
  config: { type: 'string', placeholder: 'FILE', description: 'configuration file (default $XDG_CONFIG_HOME/burrow/config.yaml, read if it exists)' },
  pac: { type: 'string', placeholder: 'FILE|URL', description: 'proxy auto-config file or http(s) URL (else BURROW_PAC); its answer lists the alternatives' },
  fresh: { type: 'boolean', description: 'ignore what earlier runs remembered: PAC answers, proxies that failed, credentials a proxy rejected' },
  'proxychains-conf': { type: 'string', placeholder: 'FILE', description: 'take the proxies from a proxychains.conf ([ProxyList], strict/dynamic/random_chain)' },
  verbose: { type: 'boolean', short: 'v', multiple: true, description: 'more log output on stderr; repeat for more (-vv, -vvv)' },
  quiet: { type: 'boolean', short: 'q', description: 'only errors on stderr' },
  'log-file': { type: 'string', placeholder: 'FILE', description: 'write the log to FILE (stderr keeps warnings and errors)' },
  'log-format': { type: 'string', placeholder: 'json|pretty', description: 'log line format on stderr (default pretty)' },
} as const satisfies Record<string, OptionSpec>;

export type CommonValues = {
  proxy?: string[];
  direct?: boolean;
  'no-proxy'?: string;
  'connect-timeout'?: string | number;
  'proxy-ca'?: string;
  'proxy-insecure'?: boolean;
  'proxy-auth'?: string;
  'alternative-timeout'?: string | number;
  'proxy-header'?: string[];
  config?: string;
  pac?: string;
  fresh?: boolean;
  'proxychains-conf'?: string;
  verbose?: boolean[] | number | boolean;
  quiet?: boolean;
  'log-file'?: string;
  'log-format'?: string;
};

/** What every command's handler gets: the parsed common options and the log they configured. */
export interface CommandContext {
  log: Log;
  values: CommonValues;
}

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 20;

export function verbosityOf(values: CommonValues): number {
  const v = values.verbose;
  if (Array.isArray(v)) return v.length;
  if (typeof v === 'number') return v;
  return v ? 1 : 0;
}

export function logFromOptions(values: CommonValues): Log {
  const format = values['log-format'];
  if (format !== undefined && format !== 'json' && format !== 'pretty') {
    throw usageError(`--log-format must be json or pretty, not "${format}"`);
  }
  return createLog({
    verbosity: verbosityOf(values),
    quiet: values.quiet ?? false,
    ...(values['log-file'] ? { logFile: values['log-file'] } : {}),
    format: format ?? 'pretty',
  });
}

export function routeOptionsFrom(values: CommonValues, env: Environment): RouteOptions {
  if (values.direct && values.proxy?.length) throw usageError('--direct and --proxy contradict each other');
  if (values['proxychains-conf'] !== undefined && values.proxy?.length) throw usageError('--proxy and --proxychains-conf both name the proxies: give one');
  if (values.pac !== undefined && values.pac.trim() === '') throw usageError('--pac needs a file or an http(s):// URL');
  return {
    env,
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    ...(values.pac !== undefined ? { pac: values.pac } : {}),
    ...(values['proxychains-conf'] !== undefined ? { proxychainsConf: values['proxychains-conf'] } : {}),
    ...(values.proxy?.length ? { proxies: values.proxy } : {}),
    ...(values.direct ? { direct: true } : {}),
    ...(values['no-proxy'] !== undefined ? { noProxy: values['no-proxy'] } : {}),
    ...(values.fresh ? { fresh: true } : {}),
    pacMemory: lazyPacMemory(env),
  };
}

/** PAC answers remembered across runs (route/pac-memory.ts), loaded only when a PAC source asks. */
function lazyPacMemory(env: Environment): PacMemory {
  let memory: Promise<PacMemory> | undefined;
  const open = () => (memory ??= import('../route/pac-memory.ts').then(({ openPacMemory }) => openPacMemory(env)));
  return {
    recall: async (content, url) => (await open()).recall(content, url),
    remember: (content, url, answer) => {
      open().then((m) => m.remember(content, url, answer)).catch(() => {});
    },
  };
}

/**
 * The run's route policy (compiled once: every target of the run is resolved by it) and its dial options, with the
 * config file's time limits folded in. `prompt`: whether a 407 may ask for credentials on /dev/tty.
 */
export async function routeAndDialFrom(values: CommonValues, env: Environment, log: Log, { prompt = false }: { prompt?: boolean } = {}): Promise<{ routeOptions: RouteOptions; policy: RoutePolicy; dialOptions: DialOptions }> {
  const routeOptions = routeOptionsFrom(values, env);
  const policy = await policyFor(routeOptions);
  return { routeOptions, policy, dialOptions: dialOptionsFrom(values, log, { prompt, timeouts: policy.timeouts, headers: policy.headers }) };
}

/**
 * `prompt`: whether a 407 may ask for credentials on /dev/tty (connect and forward; never doctor). `timeouts`: the
 * config file's (RoutePolicy.timeouts); --connect-timeout and --alternative-timeout win over them.
 */
export function dialOptionsFrom(
  values: CommonValues,
  log: Log,
  { prompt = false, timeouts = {}, headers = [] }: { prompt?: boolean; timeouts?: RoutePolicy['timeouts']; headers?: RoutePolicy['headers'] } = {},
): DialOptions {
  const scheme = values['proxy-auth']?.toLowerCase();
  if (scheme !== undefined && !(AUTH_SCHEMES as readonly string[]).includes(scheme)) {
    throw usageError(`--proxy-auth must be one of ${AUTH_SCHEMES.join(', ')}, not "${values['proxy-auth']}"`);
  }
  const timeoutText = values['connect-timeout'];
  let seconds = timeouts.connectMs !== undefined ? timeouts.connectMs / 1000 : DEFAULT_CONNECT_TIMEOUT_SECONDS;
  if (timeoutText !== undefined) {
    seconds = Number(timeoutText);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
      throw usageError(`--connect-timeout must be a number of seconds from 0 to 3600, not "${timeoutText}"`);
    }
  }
  let proxyCa: string | undefined;
  if (values['proxy-ca']) {
    try {
      proxyCa = readFileSync(values['proxy-ca'], 'utf8');
    } catch (error) {
      throw usageError(`cannot read --proxy-ca ${values['proxy-ca']}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  if (values['proxy-insecure']) {
    log.warn('--proxy-insecure: the https:// proxy\'s certificate is NOT verified; anyone on the path can read the proxy password and the tunnel\'s metadata');
  }
  let alternativeTimeoutMs = timeouts.alternativeMs;
  const alternativeText = values['alternative-timeout'];
  if (alternativeText !== undefined) {
    const value = Number(alternativeText);
    if (!Number.isFinite(value) || value <= 0 || value > 3600) {
      throw usageError(`--alternative-timeout must be a number of seconds from 0 to 3600, not "${alternativeText}"`);
    }
    alternativeTimeoutMs = Math.round(value * 1000);
  }
  const proxyHeaders = mergeProxyHeaders(headers, (values['proxy-header'] ?? []).map((text) => parseProxyHeader(text, '--proxy-header')));
  return {
    connectTimeoutMs: Math.round(seconds * 1000),
    ...(proxyHeaders.length ? { proxyHeaders } : {}),
    ...(alternativeTimeoutMs !== undefined ? { alternativeTimeoutMs } : {}),
    ...(values.fresh ? { fresh: true } : {}),
    log,
    tls: { ...(proxyCa ? { proxyCa } : {}), ...(values['proxy-insecure'] ? { insecure: true } : {}) },
    auth: { prompt, ...(scheme ? { scheme: scheme as AuthScheme } : {}) },
  };
}
