import type { SystemProxyKind, SystemProxySettings } from './types.ts';

// The desktops' exception lists in NO_PROXY syntax (src/route/no-proxy.ts, Go's rules). They mostly agree with it
// ("host", ".domain", "*.domain", IPs, CIDRs); what differs is converted here, once, and what NO_PROXY cannot say
// is reported instead of silently widening or narrowing the list:
// - "<local>" (Windows) is not an entry: it means names without a dot (the caller's bypassSimpleNames);
// - "10.*", "192.168.1.*" (Windows) are CIDRs: 10.0.0.0/8, 192.168.1.0/24;
// - "169.254/16" (macOS) is a CIDR with its zero octets left out: 169.254.0.0/16;
// - any other "*" inside a pattern ("*corp*", "web*") has no NO_PROXY equivalent: warned and left out.

export interface BypassList {
  entries: string[];
  simpleNames: boolean;
  warnings: string[];
}

export function convertBypass(patterns: string[], origin: string): BypassList {
  const list: BypassList = { entries: [], simpleNames: false, warnings: [] };
  for (const raw of patterns) {
    const pattern = raw.trim();
    if (pattern === '') continue;
    if (pattern.toLowerCase() === '<local>') {
      list.simpleNames = true;
      continue;
    }
    const converted = convertOne(pattern);
    if (converted === undefined) list.warnings.push(`${origin}: the exception "${pattern}" has no NO_PROXY equivalent and is ignored`);
    else list.entries.push(converted);
  }
  return list;
}

function convertOne(pattern: string): string | undefined {
  if (pattern === '*') return pattern;
  // "10.*", "192.168.*.*": leading numeric octets, then only wildcards.
  const octets = pattern.split('.');
  const firstWild = octets.indexOf('*');
  if (firstWild > 0 && octets.length <= 4 && octets.slice(0, firstWild).every(isOctet) && octets.slice(firstWild).every((o) => o === '*')) {
    const known = octets.slice(0, firstWild);
    return `${[...known, ...Array(4 - known.length).fill('0')].join('.')}/${known.length * 8}`;
  }
  // "169.254/16": a short IPv4 prefix.
  const short = /^(\d{1,3}(?:\.\d{1,3}){0,2})\/(\d{1,2})$/.exec(pattern);
  if (short && short[1]!.split('.').every(isOctet)) {
    const known = short[1]!.split('.');
    return `${[...known, ...Array(4 - known.length).fill('0')].join('.')}/${short[2]}`;
  }
  const body = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (body.includes('*')) return undefined;
  return pattern;
}

function isOctet(text: string): boolean {
  return /^\d{1,3}$/.test(text) && Number(text) <= 255;
}

/** A name without a dot that is not an IP literal: Windows' `<local>`, macOS' "simple hostname". */
export function isSimpleName(host: string): boolean {
  return !host.includes('.') && !host.includes(':');
}

/** Settings that say "no proxy" yet, with the desktop's exception list converted (each parser fills in the rest). */
export function noProxySettings(kind: SystemProxyKind, origin: string, bypassName: string, patterns: string[]): SystemProxySettings {
  const bypass = convertBypass(patterns, bypassName);
  return { kind, origin, mode: 'none', bypass: bypass.entries, bypassName, bypassSimpleNames: bypass.simpleNames, warnings: bypass.warnings };
}
