import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

// The PAC functions that need DNS (dnsResolve, isResolvable, isInNet on a name) are synchronous to a PAC script, but a
// lookup in Node is not. pac-resolver bridges that by rewriting the script with degenerator (calls become awaits, the
// functions that make them become async): esprima, ast-types and escodegen, ~30 ms to load and run on a cold
// process, and a parser that refuses syntax newer than ES2017 and some call shapes (`(() => x)()`).
//
// burrow instead answers lookups from a table and restarts the evaluation when the table lacks a name, as Chromium's
// PAC resolver does in its non-blocking DNS mode: a DNS function asked for a name it has no answer for records the name
// and throws; the caller (pac.ts) lets FindProxyForURL end however it ends (the script may catch the throw: the
// answer is discarded all the same), looks the name up with a bound, and runs FindProxyForURL again from the start.
// A PAC function has no side effects a re-run could repeat wrongly (alert() messages are collected per run), so N
// distinct names cost N + 1 runs of a few microseconds each. The table lives for one evaluation: a long-lived
// `burrow forward` never answers from an old lookup.

/** The most distinct names one answer may look up: a script that needs more is broken or hostile. */
export const MAX_LOOKUPS = 32;
const DNS_LIMIT_MS = 2000;

export interface LookupTable {
  /** Answers so far: an IPv4 address, or null for a name that did not resolve (within DNS_LIMIT_MS). */
  readonly answers: Map<string, string | null>;
  /** The first name asked for that `answers` lacks, in this run of FindProxyForURL. */
  missing?: string;
}

/** Thrown inside QuickJS when a name is not in the table; a script that catches it still gets its run discarded. */
class LookupNeeded extends Error {}

/** The DNS-dependent PAC functions (and myIpAddress), synchronous, answering from `table()`. */
export function pacDnsFunctions(table: () => LookupTable): Record<string, (...args: unknown[]) => unknown> {
  const resolve = (host: string): string | null => {
    if (isIP(host) === 4) return host;
    const current = table();
    const answer = current.answers.get(host);
    if (answer !== undefined) return answer;
    current.missing ??= host;
    throw new LookupNeeded(`dnsResolve(${JSON.stringify(host)}) is being looked up`);
  };
  return {
    dnsResolve: (host: unknown) => (typeof host === 'string' ? resolve(host) : null),
    isResolvable: (host: unknown) => typeof host === 'string' && resolve(host) !== null,
    isInNet: (host: unknown, pattern: unknown, mask: unknown) => {
      if (typeof host !== 'string' || typeof pattern !== 'string' || typeof mask !== 'string') return false;
      const address = resolve(host);
      if (address === null) return false;
      const [a, p, m] = [address, pattern, mask].map(ipv4Number);
      if (a === undefined || p === undefined || m === undefined) return false;
      return ((a & m) >>> 0) === ((p & m) >>> 0);
    },
    // pac-resolver opens a socket to 8.8.8.8 to learn this: here the interfaces are read, no traffic.
    myIpAddress: () => {
      for (const addresses of Object.values(networkInterfaces())) {
        for (const address of addresses ?? []) {
          if (address.family === 'IPv4' && !address.internal) return address.address;
        }
      }
      return '127.0.0.1';
    },
  };
}

/**
 * Runs `evaluate` until a run needs no name the table lacks, looking up one name between runs. Resolves with the
 * last run's outcome (its answer, or what it threw).
 */
export async function withLookups<T>(table: LookupTable, evaluate: () => Promise<T>): Promise<T> {
  for (let lookups = 0; ; lookups++) {
    table.missing = undefined;
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: await evaluate() };
    } catch (error) {
      outcome = { error };
    }
    const missing = table.missing as string | undefined;
    if (missing === undefined) {
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    }
    if (lookups >= MAX_LOOKUPS) throw new Error(`the script looks up more than ${MAX_LOOKUPS} names for one answer`);
    table.answers.set(missing, await boundedLookup(missing));
  }
}

async function boundedLookup(host: string): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      lookup(host, { family: 4 }).then((r) => r.address),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), DNS_LIMIT_MS);
      }),
    ]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

function ipv4Number(text: string): number | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}
