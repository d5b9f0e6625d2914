import type { CredentialRef } from './config.ts';
import type { ProxyEndpoint } from './proxy-url.ts';
import type { Target } from './target.ts';

/** One way to reach the target: hops walked in order, first hop first; no hops means direct. */
export interface RouteAlternative {
  hops: ProxyEndpoint[];
  /**
   * What decided it: "--proxy", "--direct", "HTTPS_PROXY", "NO_PROXY", "loopback", "default", "config" (a rule or
   * the default of the config file), "PAC" (a PAC file's answer), "--proxychains-conf".
   */
  source: string;
  reason: string;
  /** The config rule that produced it (shown by `burrow route`). */
  rule?: RuleMatch;
  /** The PAC answer that produced it (shown by `burrow route`). */
  pac?: PacMatch;
  /** proxychains' dynamic_chain: a hop that cannot be reached is left out and the chain is walked without it. */
  skipDeadHops?: boolean;
}

export interface RuleMatch {
  file: string;
  line: number;
  /** 1-based index in `rules:`, or "default". */
  rule: number | 'default';
  hosts?: string[];
  ports?: string;
}

export interface PacMatch {
  /** The PAC file or URL. */
  location: string;
  /** Which setting named it: "--pac", "BURROW_PAC" or "config". */
  from: string;
  /** The URL passed to FindProxyForURL. */
  url: string;
  /** FindProxyForURL's whole answer. */
  answer: string;
}

export interface RoutePlan {
  target: Target;
  /** Tried in order until one connects. */
  alternatives: RouteAlternative[];
  warnings: string[];
  /** Time limits from the config file; command-line options win over them. */
  timeouts?: PlanTimeouts;
  /**
   * The config file's credentials: entries, named but not looked up: the credentials layer fills them in
   * (credentials/config.ts withPlanCredentials) when the route is dialed or shown.
   */
  credentials?: { file: string; credentials: CredentialRef[] };
}

export interface PlanTimeouts {
  /** Opening the tunnel, all alternatives together (like --connect-timeout). */
  connectMs?: number;
  /** Each alternative but the last, when there are several (like --try-timeout). */
  alternativeMs?: number;
}
