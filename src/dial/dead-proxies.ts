import type { BurrowError } from '../errors.ts';
import type { RouteAlternative, RoutePlan } from '../route/plan.ts';
import { formatHops } from '../route/proxy-url.ts';
import { formatTarget } from '../route/target.ts';
import { openStore, type Store } from '../state/store.ts';

export { clockTime } from '../state/store.ts';

// Dead proxies remembered between runs (alpaca keeps such a list for 5 minutes, REFERENCE.md §6): a laptop at home
// would otherwise pay the alternative timeout on the office proxy in every ssh. An alternative that failed by
// timeout or unreachability is tried last by later runs for a few minutes, never skipped (it still gets whatever
// time is left when everything else failed), forgotten when it works again, when the machine's network changes,
// or ignored with --fresh. Per user, in $XDG_CACHE_HOME/burrow/dead-proxies.json (src/state/store.ts).

export const DEAD_PROXY_TTL_MS = 5 * 60 * 1000;

export interface DeadAlternative {
  /** What failed, as the user saw it ("timeout", "ECONNREFUSED"). */
  said: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function store(env: Env): Store<DeadAlternative> {
  return openStore<DeadAlternative>(env, 'dead-proxies', { ttlMs: DEAD_PROXY_TTL_MS, maxEntries: 50, forgetOnNetworkChange: true });
}

/** The memory's key: the hops without credentials; a direct route is remembered per target. */
export function alternativeKey(plan: RoutePlan, alternative: RouteAlternative): string {
  return alternative.hops.length === 0 ? `direct ${formatTarget(plan.target)}` : formatHops(alternative.hops);
}

export interface OrderedAlternative {
  alternative: RouteAlternative;
  /** When an earlier run saw it fail (ms since the epoch), if it is remembered. */
  failedAt?: number;
  said?: string;
}

/**
 * The order dial() will try the plan's alternatives in: the ones not remembered as failed first, in the plan's
 * order, then the remembered ones, in the plan's order. A plan with one alternative is left alone (and nothing is
 * read): there is nothing to reorder.
 */
export function orderAlternatives(plan: RoutePlan, env: Env, fresh = false): OrderedAlternative[] {
  const plain = plan.alternatives.map((alternative) => ({ alternative }));
  if (fresh || plan.alternatives.length < 2) return plain;
  const memory = store(env);
  const marked = plan.alternatives.map((alternative): OrderedAlternative => {
    const remembered = memory.get(alternativeKey(plan, alternative));
    return remembered ? { alternative, failedAt: remembered.at, said: remembered.value.said } : { alternative };
  });
  return [...marked.filter((a) => a.failedAt === undefined), ...marked.filter((a) => a.failedAt !== undefined)];
}

/** Whether a failure says the alternative itself is dead (rather than the proxy refusing this target or the user). */
export function showsDeadAlternative(alternative: RouteAlternative, error: BurrowError): boolean {
  if (error.said === 'timeout') return true;
  if (error.kind !== 'unreachable' || error.proxyAnswer) return false;
  // A direct route that cannot reach its target; or the first hop's own TCP connection (no target in the error).
  return alternative.hops.length === 0 || error.target === undefined;
}

export function rememberFailure(plan: RoutePlan, alternative: RouteAlternative, error: BurrowError, env: Env): void {
  store(env).set(alternativeKey(plan, alternative), { said: error.said ?? error.kind });
}

export function forgetFailure(plan: RoutePlan, alternative: RouteAlternative, env: Env): void {
  store(env).delete(alternativeKey(plan, alternative));
}
