import type { Duplex } from 'node:stream';
import { BurrowError, isBurrowError, withDetails } from '../errors.ts';
import { sourceText, type RouteAlternative, type RoutePlan } from '../route/plan.ts';
import { displayProxy, type ProxyEndpoint, formatHops } from '../route/proxy-url.ts';
import { formatTarget, type Target } from '../route/target.ts';
import type { DialAttempt, DialOptions } from './context.ts';
import { httpConnect, httpForward } from './http-connect.ts';
import { withPlanCredentials } from '../credentials/config.ts';
import { withCredentials } from '../credentials/lookup.ts';
import { connectTcp } from './tcp.ts';

export type { DialOptions } from './context.ts';

export interface Connection {
  /** The tunnel: bytes written reach the target, bytes read come from it. Paused until the caller reads. */
  stream: Duplex;
  alternative: RouteAlternative;
}

/**
 * Walks the plan's alternatives in order and returns the first tunnel that opens (failover). `connectTimeoutMs`
 * bounds the whole walk; when there are several alternatives, each but the last is also cut off after
 * `alternativeTimeoutMs` (default 5 s) so that a dead proxy first in a PAC answer does not eat the whole budget;
 * the last alternative gets whatever time is left. Alternatives that failed in an earlier run for a few minutes
 * (dead-proxies.ts) are tried last, unless `fresh`.
 */
export async function dial(routePlan: RoutePlan, options: DialOptions): Promise<Connection> {
  const plan = withPlanCredentials(routePlan, options.env ?? process.env);
  for (const warning of plan.warnings.slice(routePlan.warnings.length)) options.log.info(`route warning: ${warning}`);
  const failures: BurrowError[] = [];
  const byAlternative: Array<BurrowError | undefined> = [];
  const perAlternativeMs = options.alternativeTimeoutMs ?? DEFAULT_ALTERNATIVE_TIMEOUT_MS;
  const deadline = Date.now() + options.connectTimeoutMs;
  const count = plan.alternatives.length;
  const env = options.env ?? process.env;
  // Lazy: the memory (node:crypto, node:os, a file) matters only when there is a choice, which the common
  // ProxyCommand case (one proxy) never has.
  const memory = count > 1 ? await import('./dead-proxies.ts') : undefined;
  const ordered = memory ? memory.orderAlternatives(plan, env, options.fresh) : plan.alternatives.map((alternative) => ({ alternative, failedAt: undefined, said: undefined }));
  for (const { alternative, failedAt, said } of ordered) {
    if (failedAt !== undefined) {
      options.log.info('route alternative remembered as failed: trying it last', { target: formatTarget(plan.target), route: formatHops(alternative.hops), failed_at: memory!.clockTime(failedAt), said });
    }
  }
  for (const [index, { alternative, failedAt }] of ordered.entries()) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      options.log.info('route alternative skipped: no time left', { target: formatTarget(plan.target), alternative: index + 1, route: formatHops(alternative.hops) });
      continue;
    }
    const cut = index < count - 1 && perAlternativeMs < remaining;
    const limitMs = cut ? perAlternativeMs : remaining;
    try {
      const stream = await dialWithSkips(plan.target, alternative, { ...options, connectTimeoutMs: limitMs });
      if (index > 0) options.log.info('route alternative open', { target: formatTarget(plan.target), alternative: index + 1, of: count, route: formatHops(alternative.hops), source: sourceText(alternative.source) });
      if (failedAt !== undefined) memory!.forgetFailure(plan, alternative, env);
      return { stream, alternative };
    } catch (error) {
      if (!isBurrowError(error)) throw error;
      const failure = cut && error.timedOut ? perAlternativeTimeout(error) : error;
      failures.push(failure);
      byAlternative[plan.alternatives.indexOf(alternative)] = failure;
      // Remembered only when there was another way to try: a lone route's failure is the user's to see each time.
      if (memory && !options.signal?.aborted && memory.showsDeadAlternative(alternative, failure)) memory.rememberFailure(plan, alternative, failure, env);
      if (count > 1) {
        options.log.info('route alternative failed', {
          target: formatTarget(plan.target),
          alternative: index + 1,
          of: count,
          route: formatHops(alternative.hops),
          source: sourceText(alternative.source),
          error: failure.message,
          ...(index < count - 1 ? { next: formatHops(ordered[index + 1]!.alternative.hops) } : {}),
        });
      }
    }
  }
  // Authentication and policy refusals say more than "could not connect", so they win over earlier failures.
  const worst = failures.find((f) => f.kind === 'auth') ?? failures.find((f) => f.kind === 'refused') ?? failures[failures.length - 1];
  if (!worst) throw new BurrowError('unreachable', `no time left to reach ${formatTarget(plan.target)}`, { target: formatTarget(plan.target), said: 'timeout', timedOut: true });
  if (count > 1) throw withTriedRoutes(worst, plan, byAlternative);
  throw worst;
}

export const DEFAULT_ALTERNATIVE_TIMEOUT_MS = 5000;

/** proxychains' dynamic_chain: a hop that refuses or cannot be reached is dropped and the chain walked again. */
async function dialWithSkips(target: Target, alternative: RouteAlternative, options: DialOptions): Promise<Duplex> {
  if (!alternative.skipDeadHops) return dialAlternative(target, alternative, options);
  const deadline = Date.now() + options.connectTimeoutMs;
  let hops = alternative.hops;
  for (;;) {
    try {
      return await dialAlternative(target, { ...alternative, hops }, { ...options, connectTimeoutMs: Math.max(deadline - Date.now(), 1) });
    } catch (error) {
      const dead = isBurrowError(error) && hops.length > 1 && deadline > Date.now() ? deadHop(error, hops.length) : -1;
      if (dead < 0) throw error;
      options.log.info('skipping a dead hop (dynamic_chain)', { proxy: displayProxy(hops[dead]!), error: (error as BurrowError).message });
      hops = hops.filter((_, i) => i !== dead);
    }
  }
}

/**
 * Which hop of a chain of `count` a failure shows to be dead: the one that could not be reached (not the target,
 * not an auth problem, not a timeout). Decided on the error's hop and phase, which dial() stamps on every failure.
 */
export function deadHop(error: BurrowError, count: number): number {
  if (error.kind === 'auth' || error.timedOut || error.hop === undefined) return -1;
  if (error.kind !== 'unreachable' && error.kind !== 'refused') return -1;
  const { index } = error.hop;
  // This hop itself could not be reached, or its connection broke.
  if (error.phase === 'proxy-connect' || error.phase === 'proxy-tls' || error.phase === 'proxy-closed') return index;
  // This hop answered but could not open the way to the next one: the next hop is the dead one.
  if (error.phase === 'proxy-handshake' && index + 1 < count) return index + 1;
  return -1;
}

function perAlternativeTimeout(error: BurrowError): BurrowError {
  return withDetails(error, {
    said: 'timeout',
    timedOut: true,
    hint: 'no answer within the limit for one route alternative (--alternative-timeout, or timeouts.alternative in the config file); the next alternative was tried',
    proxyAnswer: undefined,
  });
}

function withTriedRoutes(worst: BurrowError, plan: RoutePlan, failures: Array<BurrowError | undefined>): BurrowError {
  const tried = plan.alternatives.map((a, i) => `${formatHops(a.hops)}: ${failures[i]?.said ?? failures[i]?.kind ?? 'not tried (no time left)'}`);
  return withDetails(worst, {
    hint: `${worst.hint ? `${worst.hint}. ` : ''}All ${plan.alternatives.length} route alternatives failed (${tried.join('; ')}); \`burrow route\` shows where they come from`,
  });
}


async function dialAlternative(target: Target, alternative: RouteAlternative, options: DialOptions): Promise<Duplex> {
  const controller = new AbortController();
  const attempt: DialAttempt = { options, phase: 'starting', stage: alternative.hops.length ? 'proxy-connect' : 'target-connect', timedOut: false, sockets: [], signal: controller.signal };
  // TLS reads the TCP socket itself (and the tunnel is then a TLS stream): custom reads only without a TLS hop.
  if (options.reads && alternative.hops.every((hop) => hop.scheme !== 'https')) attempt.reads = options.reads;
  const deadline = Date.now() + options.connectTimeoutMs;
  const onTimeout = () => {
    attempt.timedOut = true;
    controller.abort();
    for (const socket of attempt.sockets) socket.destroy();
  };
  let remaining = options.connectTimeoutMs;
  let armedAt = Date.now();
  // Referenced on purpose: while a dial is pending, its timer is what guarantees an answer (a stalled peer leaves
  // nothing else in the event loop). It is cleared as soon as the dial settles.
  let timer = setTimeout(onTimeout, remaining);
  attempt.pauseClock = () => {
    clearTimeout(timer);
    remaining -= Date.now() - armedAt;
    return () => {
      armedAt = Date.now();
      timer = setTimeout(onTimeout, Math.max(remaining, 1));
    };
  };
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
  log.debug('dialing', { target: formatTarget(target), route: formatHops(alternative.hops), source: sourceText(alternative.source) });
  try {
    const stream = await withTimeout(walk(target, alternative.hops, attempt, deadline), attempt, controller.signal);
    log.info('tunnel open', { target: formatTarget(target), route: formatHops(alternative.hops) });
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
  const last = hops.length - 1;
  const forward = attempt.options.forward;
  let stream: Duplex;
  if (last < 0) {
    stream = await connectTcp({ host: target.host, port: target.port, role: 'target', label: formatTarget(target) }, attempt);
  } else {
    const withCredentialsFilled = hops.map((hop) => credentialed(hop, attempt));
    // A plain-HTTP request whose route ends at an http:// proxy is sent to that proxy (absolute-form, the way
    // browsers talk to it: many proxies allow CONNECT only to 443), with CONNECT's authentication.
    if (forward && withCredentialsFilled[last]!.scheme === 'http') {
      const hop = withCredentialsFilled[last]!;
      const open = () => openHop(withCredentialsFilled, last, attempt, deadline);
      return atHop(last, hop, httpForward(await open(), target, forward, hop, attempt, open));
    }
    stream = await handshake(withCredentialsFilled, last, target, attempt, deadline);
  }
  // Otherwise (direct, SOCKS, an https:// proxy) the request goes origin-form through the tunnel.
  if (forward) stream.write(forward.originHead());
  return stream;
}

/** A stream on which hop `i` is ready to be asked for its next destination: TCP, earlier hops and TLS done. */
async function openHop(hops: ProxyEndpoint[], i: number, attempt: DialAttempt, deadline: number): Promise<Duplex> {
  const hop = hops[i]!;
  let stream: Duplex =
    i === 0
      ? await atHop(i, hop, connectTcp({ host: hop.host, port: hop.port, role: 'proxy', label: displayProxy(hop) }, attempt))
      : await handshake(hops, i - 1, { host: hop.host, port: hop.port }, attempt, deadline);
  if (hop.scheme === 'https') {
    // Lazy: node:tls is not needed by plain http:// and SOCKS routes, the common ProxyCommand case.
    const { startProxyTls } = await import('./tls.ts');
    stream = await atHop(i, hop, startProxyTls(stream, hop, attempt));
  }
  return stream;
}

/** Stamps a failure of this step with the hop it concerns (unless an earlier hop's step already did). */
async function atHop<T>(index: number, hop: ProxyEndpoint, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    if (!isBurrowError(error) || error.hop !== undefined) throw error;
    throw withDetails(error, { hop: { index, endpoint: displayProxy(hop) }, cause: error.cause });
  }
}

/** Asks hop `i` to connect to `destination`; an HTTP proxy that closes between auth legs is reopened the same way. */
async function handshake(hops: ProxyEndpoint[], i: number, destination: Target, attempt: DialAttempt, deadline: number): Promise<Duplex> {
  const hop = hops[i]!;
  const stream = await openHop(hops, i, attempt, deadline);
  if (hop.scheme === 'http' || hop.scheme === 'https') {
    return atHop(i, hop, httpConnect(stream, destination, hop, attempt, () => openHop(hops, i, attempt, deadline)));
  }
  // Lazy: the socks package and its ip-address dependency cost ~50 ms to load (REFERENCE.md §4).
  const { socksConnect } = await import('./socks.ts');
  return atHop(i, hop, socksConnect(stream, destination, hop, attempt, deadline));
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
  // Rounded: the limit an alternative gets is what is left of the whole budget, a few milliseconds under it.
  const seconds = Number((ms / 1000).toFixed(1));
  const first = alternative.hops[0];
  return new BurrowError('unreachable', `timed out after ${seconds} s ${attempt.phase}`, {
    target: formatTarget(target),
    ...(first ? { proxy: displayProxy(first) } : {}),
    said: 'timeout',
    timedOut: true,
    phase: attempt.stage,
    hint: first
      ? 'the proxy does not answer: is the address right, and is it reachable from this network? (--connect-timeout sets the limit)'
      : 'the target does not answer directly: a firewall may drop direct connections here; try a proxy (HTTPS_PROXY, --proxy)',
  });
}
