import { hostNameToAscii } from './host-name.ts';
import { cidrContains, ipEqual, parseCidr, parseIp, type Cidr } from './ip.ts';
import type { ProxyEndpoint } from './proxy-url.ts';
import type { Target } from './target.ts';

// Per-host rules of the config file, as pure data and pure functions: a rule is host patterns and ports that
// decide an action (a chain, a list of alternatives, or direct). Parsed once; `matchRules` is then a function of
// (rules, target), tested with one table (test/unit/config-rules.test.ts).
//
// Host patterns:
//   "*"                   every target
//   "jump.example.org"    that name only (case-insensitive; an internationalised name in its ASCII form)
//   "*.example.org"       a glob: "*" is any run of characters (dots included), "?" one character;
//                         so "*.example.org" matches the subdomains and not example.org itself
//   "10.0.0.0/8", "fd00::/8"   IP-literal targets in the range (names are never resolved to check)
//   "192.0.2.1", "::1", "[::1]" that address
// Ports: a list of numbers and ranges ("22", "8000-8100"); no list means every port.

export type HostPattern =
  | { kind: 'any'; text: string }
  | { kind: 'exact'; text: string; name: string }
  | { kind: 'glob'; text: string; regex: RegExp }
  | { kind: 'ip'; text: string; ip: Uint8Array }
  | { kind: 'cidr'; text: string; cidr: Cidr };

export interface PortRange {
  from: number;
  to: number;
}

/** One hop as written in the config: a proxy URL or the name of an entry of `proxies:`. */
export type Chain = ProxyEndpoint[];

export type RouteAction =
  /** Alternatives, tried in order; a chain with no hops is direct. */
  { alternatives: Chain[] };

export interface RouteRule {
  /** 1-based position in `rules:`. */
  index: number;
  line: number;
  /** name: in the config, shown by `burrow route`. */
  name?: string;
  hosts: HostPattern[];
  /** Empty: every port. */
  ports: PortRange[];
  action: RouteAction;
}

export function parseHostPattern(input: string): HostPattern | string {
  const text = input.trim();
  if (text === '') return 'an empty host pattern';
  if (text === '*') return { kind: 'any', text };
  const cidr = parseCidr(text);
  if (cidr) return { kind: 'cidr', text, cidr };
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const ip = parseIp(bare);
  if (ip) return { kind: 'ip', text, ip };
  if (/[\s/\\@#]/.test(text) || text.includes(':')) return `"${text}" is not a host name, glob, IP address or CIDR range`;
  const lower = text.toLowerCase();
  if (/[*?]/.test(lower)) {
    // A glob's labels without "*" or "?" take their IDNA form like a name's; one with them must be ASCII already.
    const labels = lower.split('.').map((label) => (/[*?]/.test(label) ? (/^[\u0000-\u007f]*$/.test(label) ? label : undefined) : label === '' ? label : hostNameToAscii(label)));
    if (labels.some((label) => label === undefined)) return `"${text}" is not a valid host name glob (a label with * or ? must be ASCII; other labels valid names)`;
    const source = labels
      .join('.')
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return { kind: 'glob', text, regex: new RegExp(`^${source}$`) };
  }
  const name = hostNameToAscii(lower);
  if (name === undefined) return `"${text}" is not a valid host name (letters, digits, "-", "_" and "."; Unicode letters are converted to IDNA)`;
  // Targets are compared without a trailing dot (matchHost): so is the name.
  return { kind: 'exact', text, name: name.replace(/\.$/, '') };
}

export function parsePortList(items: Array<string | number>): PortRange[] | string {
  const ranges: PortRange[] = [];
  for (const item of items) {
    const text = String(item).trim();
    const match = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(text);
    if (!match) return `"${text}" is not a port or a range like 8000-8100`;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (from < 1 || to > 65535 || from > to) return `"${text}" is outside 1-65535 or backwards`;
    ranges.push({ from, to });
  }
  return ranges;
}

export function matchHost(pattern: HostPattern, host: string): boolean {
  const lower = host.toLowerCase().replace(/\.$/, '');
  switch (pattern.kind) {
    case 'any':
      return true;
    case 'exact':
      return lower === pattern.name;
    case 'glob':
      return pattern.regex.test(lower);
    case 'ip': {
      const ip = parseIp(lower);
      return ip !== undefined && ipEqual(ip, pattern.ip);
    }
    case 'cidr': {
      const ip = parseIp(lower);
      return ip !== undefined && cidrContains(pattern.cidr, ip);
    }
  }
}

export function matchPorts(ports: PortRange[], port: number): boolean {
  return ports.length === 0 || ports.some((r) => port >= r.from && port <= r.to);
}

export function formatPorts(ports: PortRange[]): string {
  return ports.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(',');
}

/** The first rule whose hosts and ports match the target, and the host pattern that matched. */
export function matchRules(rules: RouteRule[], target: Target): { rule: RouteRule; pattern: HostPattern } | undefined {
  for (const rule of rules) {
    if (!matchPorts(rule.ports, target.port)) continue;
    const pattern = rule.hosts.find((p) => matchHost(p, target.host));
    if (pattern) return { rule, pattern };
  }
  return undefined;
}

/** Loopback targets go direct unless a rule names them exactly: a "*" or a glob is not meant for localhost. */
export function namesTargetExactly(pattern: HostPattern): boolean {
  return pattern.kind === 'exact' || pattern.kind === 'ip';
}
