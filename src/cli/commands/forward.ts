import { readFileSync } from 'node:fs';
import { usageError } from '../../errors.ts';
import { sourceText, type RoutePlan } from '../../route/plan.ts';
import { formatTarget } from '../../route/target.ts';
import { registerSecret } from '../../secrets.ts';
import { formatListen, isLoopbackAddress, parseListenSpec, parseLocalForward, type ListenSpec, type LocalForwardSpec } from '../../relay/forward-spec.ts';
import { startForwarder } from '../../relay/forwarder.ts';
import { makeRouter, newLimits, type RunningListener } from '../../relay/listener.ts';
import { startProxyServer } from '../../relay/proxy-server.ts';
import type { Credentials } from '../../relay/socks-server.ts';
import { routeAndDialFrom, type CommonValues, type CommandContext } from '../options.ts';
import { formatHops } from '../../route/proxy-url.ts';

// `burrow forward`: long-running, like `ssh -N -L`. Thin: parse the specs, start the listeners (relay/), print one
// line per listener, and on SIGINT/SIGTERM stop accepting and drain.

export interface ForwardValues extends CommonValues {
  local?: string[];
  dynamic?: string[];
  http?: string[];
  auth?: string;
  'auth-file'?: string;
  'print-port'?: boolean;
  'idle-timeout'?: string;
  'drain-seconds'?: string;
  'max-connections'?: string;
  'handshake-timeout'?: string;
}

export const DEFAULT_DRAIN_SECONDS = 10;

function seconds(text: string | undefined, option: string, fallback: number | undefined): number | undefined {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 7 * 24 * 3600) throw usageError(`${option} must be a number of seconds, not "${text}"`);
  return value;
}

function parseCredentials(text: string, origin: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) throw usageError(`${origin} must be USER:PASSWORD`);
  const credentials = { user: text.slice(0, colon), password: text.slice(colon + 1) };
  registerSecret(credentials.password);
  return credentials;
}

/** --auth USER:PASS, --auth-file FILE (first line USER:PASS), or BURROW_FORWARD_AUTH. */
export function credentialsFrom(values: ForwardValues, env: NodeJS.ProcessEnv): Credentials | undefined {
  if (values.auth !== undefined && values['auth-file'] !== undefined) throw usageError('give --auth or --auth-file, not both');
  if (values.auth !== undefined) return parseCredentials(values.auth, '--auth');
  if (values['auth-file'] !== undefined) {
    let text: string;
    try {
      text = readFileSync(values['auth-file'], 'utf8');
    } catch (error) {
      throw usageError(`cannot read --auth-file ${values['auth-file']}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    return parseCredentials((text.split(/\r?\n/)[0] ?? '').trim(), `the first line of ${values['auth-file']}`);
  }
  if (env.BURROW_FORWARD_AUTH) return parseCredentials(env.BURROW_FORWARD_AUTH, 'BURROW_FORWARD_AUTH');
  return undefined;
}

export async function runForward(values: ForwardValues, context: CommandContext): Promise<number> {
  const { log } = context;
  const locals: LocalForwardSpec[] = (values.local ?? []).map(parseLocalForward);
  const socks: ListenSpec[] = (values.dynamic ?? []).map((t) => parseListenSpec(t, '-D'));
  const https: ListenSpec[] = (values.http ?? []).map((t) => parseListenSpec(t, '--http'));
  if (locals.length + socks.length + https.length === 0) {
    throw usageError('forward needs at least one -L, -D or --http', 'burrow forward -L 2222:jump.example.org:22, or -D 1080 for a SOCKS proxy');
  }
  const auth = credentialsFrom(values, process.env);
  if (auth && socks.length + https.length === 0) log.warn('--auth protects only -D and --http listeners; -L forwards accept any client that can connect');
  const idle = seconds(values['idle-timeout'], '--idle-timeout', undefined);
  const drainSeconds = seconds(values['drain-seconds'], '--drain-seconds', DEFAULT_DRAIN_SECONDS)!;
  let maxConnections: number | undefined;
  if (values['max-connections'] !== undefined) {
    maxConnections = Number(values['max-connections']);
    if (!Number.isInteger(maxConnections) || maxConnections < 1) throw usageError(`--max-connections must be a positive whole number, not "${values['max-connections']}"`);
  }
  // Compiled once; every connection is resolved by the same policy.
  const { routeOptions, policy, dialOptions } = await routeAndDialFrom(values, process.env, log);
  const router = makeRouter(routeOptions, dialOptions);
  const limits = newLimits(maxConnections);
  const idleTimeoutMs = idle ? Math.round(idle * 1000) : undefined;
  const handshake = seconds(values['handshake-timeout'], '--handshake-timeout', undefined);
  const common = { router, log, limits, ...(idleTimeoutMs ? { idleTimeoutMs } : {}) };
  const proxyCommon = { ...common, ...(handshake ? { handshakeTimeoutMs: Math.round(handshake * 1000) } : {}) };

  // Resolve once up front: a bad proxy URL or variable is a start-up error (exit 2), not a failure per connection.
  const describeRoute = (plan: RoutePlan) => {
    const alternative = plan.alternatives[0];
    return alternative ? `${formatHops(alternative.hops)} (${sourceText(alternative.source)})` : 'no route';
  };
  const lines: string[] = [];
  for (const spec of locals) {
    const plan = await policy.resolve(spec.target);
    for (const warning of plan.warnings) log.warn(`route warning: ${warning}`);
    lines.push(`forwarding to ${formatTarget(spec.target)} via ${describeRoute(plan)}`);
  }
  if (socks.length + https.length > 0) {
    const sample = await policy.resolve({ host: 'example.org', port: 443 });
    if (locals.length === 0) for (const warning of sample.warnings) log.warn(`route warning: ${warning}`);
  }

  const listeners: RunningListener[] = [];
  const closeAll = async (drainMs: number) => (await Promise.all(listeners.map((l) => l.close(drainMs)))).reduce((a, b) => a + b, 0);
  const proxyNote = auth ? `clients must authenticate as "${auth.user}"` : 'only clients on this machine are served (no --auth)';
  try {
    for (const [i, spec] of locals.entries()) {
      const listener = await startForwarder({ spec, ...common });
      listeners.push(listener);
      announce(values, `listening on ${formatListen(listener.address)} (-L ${spec.text}): ${lines[i]}`, listener, spec.listen.host, 'anyone who can reach this machine can use the forward');
    }
    for (const [option, specs, protocols, what] of [
      ['-D', socks, ['socks'], 'SOCKS5/SOCKS4a proxy'],
      ['--http', https, ['http'], 'HTTP proxy (CONNECT and plain http://)'],
    ] as const) {
      for (const spec of specs) {
        const listener = await startProxyServer({ name: `${option} ${spec.text}`, listen: spec.listen, protocols: [...protocols], ...(auth ? { auth } : {}), ...proxyCommon });
        listeners.push(listener);
        announce(values, `listening on ${formatListen(listener.address)} (${option} ${spec.text}): ${what}, every target routed on its own; ${proxyNote}`, listener, spec.listen.host, auth ? 'clients need the --auth credentials' : 'only loopback clients are served without --auth');
      }
    }
  } catch (error) {
    await closeAll(0);
    throw error;
  }

  // Long-running: until SIGINT/SIGTERM. SIGHUP is ignored (a service manager's "reload" or a closed terminal must
  // not cut open tunnels; to pick up a changed environment file, restart the service).
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onHup = () => log.info('SIGHUP ignored: restart burrow forward to change its settings');
    const onStop = (received: NodeJS.Signals) => {
      process.off('SIGINT', onStop);
      process.off('SIGTERM', onStop);
      process.off('SIGHUP', onHup);
      resolve(received);
    };
    process.on('SIGINT', onStop);
    process.on('SIGTERM', onStop);
    process.on('SIGHUP', onHup);
  });
  const open = listeners.reduce((n, l) => n + l.active, 0);
  if (!values.quiet) {
    process.stderr.write(`burrow: ${signal}: no longer accepting${open ? `; waiting up to ${drainSeconds} s for ${open} open connection(s)` : ''}\n`);
  }
  const cut = await closeAll(Math.round(drainSeconds * 1000));
  if (cut > 0) log.warn(`closed ${cut} connection(s) still open after the ${drainSeconds} s drain`);
  return 0;
}

function announce(values: ForwardValues, line: string, listener: RunningListener, bindHost: string, exposure: string): void {
  if (!values.quiet) process.stderr.write(`burrow: ${line}\n`);
  if (!isLoopbackAddress(bindHost)) {
    process.stderr.write(`burrow: warning: ${listener.name} listens on ${formatListen(listener.address)}, which is not a loopback address: ${exposure}\n`);
  }
  if (values['print-port']) process.stdout.write(`${listener.address.port}\n`); // stdout-ok: --print-port, for scripts
}
