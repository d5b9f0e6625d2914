import type { CredentialRef } from './config.ts';
import { displayProxy, type ProxyEndpoint } from './proxy-url.ts';
import { formatTarget, type Target } from './target.ts';

/** One way to reach the target: hops walked in order, first hop first; no hops means direct. */
export interface RouteAlternative {
  hops: ProxyEndpoint[];
  /** What decided it; sourceText() gives the words `burrow route` shows. */
  source: RouteSource;
  reason: string;
  /** The config rule that produced it (shown by `burrow route`). */
  rule?: RuleMatch;
  /** The PAC answer that produced it (shown by `burrow route`). */
  pac?: PacMatch;
  /** proxychains' dynamic_chain: a hop that cannot be reached is left out and the chain is walked without it. */
  skipDeadHops?: boolean;
}

/**
 * What decided a route, as data. Commands decide on `kind`; people see sourceText(). The display texts are the
 * contract of `burrow route --json` ("--proxy", "HTTPS_PROXY", "NO_PROXY", "config", "PAC", ...).
 */
export type RouteSource =
  | { kind: 'flag-direct' }
  | { kind: 'flag-proxy' }
  | { kind: 'proxychains' }
  /** BURROW_PROXY, or a standard proxy variable; `variable` as spelled in the environment ("https_proxy"). */
  | { kind: 'burrow-proxy'; variable: string }
  | { kind: 'environment'; variable: string }
  | { kind: 'config-rule' }
  | { kind: 'config-default' }
  | { kind: 'pac' }
  /** A NO_PROXY list exempted the target: --no-proxy, the variable (as spelled), or no_proxy: in the config file. */
  | { kind: 'no-proxy'; list: NoProxyName }
  /** The loopback rule: environment proxies, PAC answers and the config's default never apply to loopback. */
  | { kind: 'loopback' }
  /** The desktop's proxy settings (consulted only when nothing above decides); `origin` names them for people. */
  | { kind: 'system'; origin: string }
  /** Nothing is configured. */
  | { kind: 'none' }
  /** A candidate of `burrow doctor`'s own (not a route). */
  | { kind: 'probe'; text: string };

export interface NoProxyName {
  /** 'system': the desktop settings' exceptions (GNOME ignore-hosts, KDE NoProxyFor, ...). */
  from: 'flag' | 'environment' | 'config' | 'system';
  /** "--no-proxy", "NO_PROXY" or "no_proxy" as spelled, or "no_proxy in FILE:LINE". */
  name: string;
}

export type RouteSourceKind = RouteSource['kind'];

/** The words for a route's source, as `burrow route` prints them. */
export function sourceText(source: RouteSource): string {
  switch (source.kind) {
    case 'flag-direct':
      return '--direct';
    case 'flag-proxy':
      return '--proxy';
    case 'proxychains':
      return '--proxychains-conf';
    case 'burrow-proxy':
    case 'environment':
      return source.variable;
    case 'config-rule':
    case 'config-default':
      return 'config';
    case 'pac':
      return 'PAC';
    case 'no-proxy':
      return source.list.from === 'config' ? 'config' : source.list.name;
    case 'loopback':
      return 'loopback';
    case 'system':
      return source.origin;
    case 'none':
      return 'default';
    case 'probe':
      return source.text;
  }
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
  /** Which setting named it: "--pac", "BURROW_PAC", "config", or the desktop settings ("GNOME proxy settings (…)"). */
  from: string;
  /** The URL passed to FindProxyForURL. */
  url: string;
  /** FindProxyForURL's whole answer. */
  answer: string;
  /** When the answer was computed, if it was remembered from an earlier run (ISO 8601) rather than computed now. */
  remembered_at?: string;
  /** For a PAC URL: where this run's script came from (route/pac-scripts.ts). */
  script?: PacScriptJson;
}

/**
 * A PAC URL's script: fetched now, kept from an earlier run without a request, or revalidated now (HTTP 304); `at`
 * when it was last fetched or revalidated, `fresh_until` until when it is used without a request (absent: not kept).
 * ISO 8601.
 */
export interface PacScriptJson {
  how: 'fetched' | 'kept' | 'revalidated';
  at: string;
  fresh_until?: string;
}

export interface RoutePlan {
  target: Target;
  /** Tried in order until one connects. */
  alternatives: RouteAlternative[];
  warnings: string[];
  /**
   * The config file's credentials: entries, named but not looked up: the credentials layer fills them in
   * (credentials/config.ts withPlanCredentials) when the route is dialed or shown.
   */
  credentials?: { file: string; credentials: CredentialRef[] };
}

/** One alternative as JSON: the contract of `burrow route --json` (DESIGN.md), also doctor's report of the route. */
export interface AlternativeJson {
  /** Proxies without credentials, first hop first. */
  hops: string[];
  source: string;
  /** The same fact as `source`, as data (added field). */
  decided_by: RouteSource;
  reason: string;
  rule?: RuleMatch;
  pac?: PacMatch;
  skip_dead_hops?: true;
}

export interface PlanJson {
  target: string;
  plan: AlternativeJson[];
  warnings: string[];
}

/** The plan as JSON, built in this one place (`burrow route --json`, `burrow doctor --json`). */
export function planToJson(plan: RoutePlan): PlanJson {
  return {
    target: formatTarget(plan.target),
    plan: plan.alternatives.map((alternative) => ({
      hops: alternative.hops.map(displayProxy),
      source: sourceText(alternative.source),
      decided_by: alternative.source,
      reason: alternative.reason,
      // Added fields (the contract's three stay as they are): which config rule or PAC answer decided.
      ...(alternative.rule ? { rule: alternative.rule } : {}),
      ...(alternative.pac ? { pac: alternative.pac } : {}),
      ...(alternative.skipDeadHops ? { skip_dead_hops: true as const } : {}),
    })),
    warnings: plan.warnings,
  };
}
