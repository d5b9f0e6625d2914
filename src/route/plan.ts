import type { ProxyEndpoint } from './proxy-url.ts';
import type { Target } from './target.ts';

/** One way to reach the target: hops walked in order, first hop first; no hops means direct. */
export interface RouteAlternative {
  hops: ProxyEndpoint[];
  /** What decided it: "--proxy", "--direct", "HTTPS_PROXY", "NO_PROXY", "loopback", "default". */
  source: string;
  reason: string;
}

export interface RoutePlan {
  target: Target;
  /** Tried in order until one connects. */
  alternatives: RouteAlternative[];
  warnings: string[];
}
