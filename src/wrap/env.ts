// The environment a wrapped program gets. Pure functions, table-tested (test/unit/wrap-env.test.ts).
//
// The rule: the upstream proxy's credentials never reach the child. Every proxy variable the parent had is
// replaced, burrow's own credential variables are dropped, and any other variable whose value contains one of the
// upstream secrets (npm_config_proxy, a tool's own *_PROXY, a script's copy of the URL) is dropped too. What the
// child gets instead is the per-run bridge on 127.0.0.1 with its own random credential.

/** Go syntax (and curl's, Python's): localhost, the IPv4 loopback (CIDR for Go/curl, the address for older tools), ::1. */
export const LOOPBACK_NO_PROXY = 'localhost,127.0.0.1,::1,127.0.0.0/8';

/** Variables removed from every wrapped child: all *_proxy names (any case) and burrow's credential variables. */
export function isProxyVariable(name: string): boolean {
  return /(^|_)proxy$/i.test(name) || /^BURROW_PROXY(_USER|_PASSWORD)?$/i.test(name) || /^no_proxy$/i.test(name);
}

export interface ScrubResult {
  env: Record<string, string>;
  /** Names removed because their value carried an upstream secret (reported at -v, never the values). */
  dropped: string[];
}

/** Copies env without proxy variables and without any variable whose value contains one of `secrets`. */
export function scrubEnvironment(env: Readonly<Record<string, string | undefined>>, secrets: string[]): ScrubResult {
  const out: Record<string, string> = {};
  const dropped: string[] = [];
  const needles = secrets.filter((s) => s.length >= 3);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (isProxyVariable(name)) {
      if (needles.some((s) => value.includes(s))) dropped.push(name);
      continue;
    }
    if (needles.some((s) => value.includes(s))) {
      dropped.push(name);
      continue;
    }
    out[name] = value;
  }
  return { env: out, dropped };
}

export interface BridgeAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function bridgeUrl(bridge: BridgeAddress): string {
  return `http://${encodeURIComponent(bridge.user)}:${encodeURIComponent(bridge.password)}@${bridge.host}:${bridge.port}`;
}

/** NAME and name set to `value` for each name (tools differ on which case they read). */
export function inBothCases(names: string[], value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    out[name.toUpperCase()] = value;
    out[name.toLowerCase()] = value;
  }
  return out;
}

/**
 * The child's environment for `burrow exec`: everything through the bridge. HTTPS_PROXY, HTTP_PROXY and ALL_PROXY
 * in both cases (tools differ on which case they read), BURROW_PROXY for the `burrow connect` that ssh starts,
 * RSYNC_PROXY for rsync:// daemons, and a NO_PROXY that covers loopback only: the bridge routes every other target
 * with the parent's rules (NO_PROXY, chains), so the child needs no copy of them.
 */
export function bridgeEnvironment(base: Readonly<Record<string, string>>, bridge: BridgeAddress, extra: Record<string, string> = {}): Record<string, string> {
  const url = bridgeUrl(bridge);
  return {
    ...base,
    ...inBothCases(['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY'], url),
    BURROW_PROXY: url,
    RSYNC_PROXY: `${encodeURIComponent(bridge.user)}:${encodeURIComponent(bridge.password)}@${bridge.host}:${bridge.port}`,
    NO_PROXY: LOOPBACK_NO_PROXY,
    no_proxy: LOOPBACK_NO_PROXY,
    ...extra,
  };
}

/** The variables a wrapper sets or changes relative to `before`, for --dry-run and -v (values not yet masked). */
export function environmentChanges(before: Readonly<Record<string, string | undefined>>, after: Readonly<Record<string, string>>): Array<[string, string | undefined]> {
  const changes: Array<[string, string | undefined]> = [];
  for (const [name, value] of Object.entries(after)) if (before[name] !== value) changes.push([name, value]);
  for (const name of Object.keys(before)) if (before[name] !== undefined && !(name in after)) changes.push([name, undefined]);
  return changes.sort(([a], [b]) => a.localeCompare(b));
}
