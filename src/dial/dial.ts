import type { Duplex } from 'node:stream';
import { BurrowError, isBurrowError } from '../errors.ts';
import type { RouteAlternative, RoutePlan } from '../route/plan.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import { formatTarget, type Target } from '../route/target.ts';
import type { DialAttempt, DialOptions } from './context.ts';
import { httpConnect, type Destination } from './http-connect.ts';
import { withCredentials } from './auth/credentials.ts';
import { connectTcp } from './tcp.ts';

export type { DialOptions } from './context.ts';

export interface Connection {
  /** The tunnel: bytes written reach the target, bytes read come from it. Paused until the caller reads. */
  stream: Duplex;
  alternative: RouteAlternative;
}

/** Walks the plan's alternatives in order and returns the first tunnel that opens. */
export async function dial(plan: RoutePlan, options: DialOptions): Promise<Connection> {
  const failures: BurrowError[] = [];
  for (const alternative of plan.alternatives) {
    try {
      const stream = await dialAlternative(plan.target, alternative, options);
      return { stream, alternative };
    } catch (error) {
      if (!isBurrowError(error)) throw error;
      failures.push(error);
      if (plan.alternatives.length > 1) {
        options.log.info('route alternative failed', { target: formatTarget(plan.target), route: describeHops(alternative.hops), error: error.message });
      }
    }
  }
  // Authentication and policy refusals say more than "could not connect", so they win over earlier failures.
  const worst = failures.find((f) => f.kind === 'auth') ?? failures.find((f) => f.kind === 'refused') ?? failures[failures.length - 1];
  if (!worst) throw new BurrowError('usage', `no route to ${formatTarget(plan.target)}`);
  throw worst;
}

export function describeHops(hops: ProxyEndpoint[]): string {
  return hops.length === 0 ? 'direct' : hops.map(displayProxy).join(' -> ');
}

async function dialAlternative(target: Target, alternative: RouteAlternative, options: DialOptions): Promise<Duplex> {
  const controller = new AbortController();
  const attempt: DialAttempt = { options, phase: 'starting', timedOut: false, sockets: [], signal: controller.signal };
  const deadline = Date.now() + options.connectTimeoutMs;
  const timer = setTimeout(() => {
    attempt.timedOut = true;
    controller.abort();
    for (const socket of attempt.sockets) socket.destroy();
  }, options.connectTimeoutMs);
  // A pending timer must not keep a finished process alive, nor an abandoned one run.
  timer.unref();
  const onOuterAbort = () => {
    if (attempt.timedOut) return;
    attempt.timedOut = true;
    controller.abort();
    for (const socket of attempt.sockets) socket.destroy();
  };
  if (options.signal?.aborted) {
    clearTimeout(timer);
    throw timeoutError(target, alternative, attempt, options.connectTimeoutMs);
  }
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const log = options.log;
  log.debug('dialing', { target: formatTarget(target), route: describeHops(alternative.hops), source: alternative.source });
  try {
    const stream = await withTimeout(walk(target, alternative.hops, attempt, deadline), attempt, controller.signal);
    log.info('tunnel open', { target: formatTarget(target), route: describeHops(alternative.hops) });
    return stream;
  } catch (error) {
    for (const socket of attempt.sockets) socket.destroy();
    if (attempt.timedOut) throw timeoutError(target, alternative, attempt, options.connectTimeoutMs);
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

async function walk(target: Target, hops: ProxyEndpoint[], attempt: DialAttempt, deadline: number): Promise<Duplex> {
  const first = hops[0];
  if (!first) {
    return connectTcp({ host: target.host, port: target.port, role: 'target', label: formatTarget(target) }, attempt);
  }
  let stream: Duplex = await connectTcp({ host: first.host, port: first.port, role: 'proxy', label: displayProxy(first) }, attempt);
  for (let i = 0; i < hops.length; i++) {
    const hop = credentialed(hops[i]!, attempt);
    const nextHop = hops[i + 1];
    const destination: Destination = nextHop ? { host: nextHop.host, port: nextHop.port } : target;
    if (hop.scheme === 'https') {
      // Lazy: node:tls is not needed by plain http:// and SOCKS routes, the common ProxyCommand case.
      const { startProxyTls } = await import('./tls.ts');
      stream = await startProxyTls(stream, hop, attempt);
    }
    if (hop.scheme === 'http' || hop.scheme === 'https') {
      stream = await httpConnect(stream, destination, hop, attempt);
    } else {
      // Lazy: the socks package and its ip-address dependency cost ~50 ms to load (REFERENCE.md §4).
      const { socksConnect } = await import('./socks.ts');
      stream = await socksConnect(stream, destination, hop, attempt, deadline);
    }
  }
  return stream;
}

function credentialed(hop: ProxyEndpoint, attempt: DialAttempt): ProxyEndpoint {
  const { proxy, source } = withCredentials(hop, attempt.options.env ?? process.env);
  if (source) attempt.options.log.debug('proxy credentials', { proxy: displayProxy(proxy), user: proxy.username, from: source });
  return proxy;
}

function withTimeout<T>(work: Promise<T>, attempt: DialAttempt, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('timeout'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (attempt.timedOut && typeof (value as { destroy?: unknown }).destroy === 'function') (value as unknown as Duplex).destroy();
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function timeoutError(target: Target, alternative: RouteAlternative, attempt: DialAttempt, ms: number): BurrowError {
  const seconds = ms / 1000;
  const first = alternative.hops[0];
  return new BurrowError('unreachable', `timed out after ${seconds} s ${attempt.phase}`, {
    target: formatTarget(target),
    ...(first ? { proxy: displayProxy(first) } : {}),
    said: 'timeout',
    hint: first
      ? 'the proxy does not answer: is the address right, and is it reachable from this network? (--connect-timeout sets the limit)'
      : 'the target does not answer directly: a firewall may drop direct connections here; try a proxy (HTTPS_PROXY, --proxy)',
  });
}
