// PAC start-up (issue #17): whole-process `burrow connect` through the same squid as the start-up rows, with the route
// from HTTPS_PROXY and from a PAC file, each timed like a start-up row (spawn until the target accepts the tunnel,
// median of BENCH_STARTUP_RUNS) and its peak RSS (VmHWM while the tunnel is open):
//   (a) HTTPS_PROXY: the same target without a PAC (the yardstick);
//   (b) --pac FILE, answer remembered: same PAC, same host every run, so every timed run finds its answer in the
//       per-user memory (src/route/pac-memory.ts) and loads no engine;
//   (c) --pac FILE, PAC seen before, new host: same PAC, a host never asked before each run, so the engine runs but
//       finds the PAC's compiled script in its per-user cache (src/route/pac-compiled.ts);
//   (d) --pac FILE, first time: a PAC whose content is new each run (a counter in a comment), so nothing is cached.
// Every PAC row shares one fresh XDG_CACHE_HOME made for this bench run. The names resolve in squid's hosts_file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOOPBACK } from '../peers/net.ts';
import type { Candidate, Setup } from './tools.ts';
import { fmt, pad, ratio } from './util.ts';

const DOMAIN = 'pac.bench.test';
/** The host of rows (a), (b) and (d). */
const JUMP = `jump.${DOMAIN}`;
const newHost = (n: number): string => `host-${n}.${DOMAIN}`;

/** Targets: remembered ≤ 1.15× the HTTPS_PROXY path, cold ≤ 2× (issue #17). */
export const PAC_TARGETS = { remembered: 1.15, cold: 2 };

/** The names squid must resolve (to the echo target on 127.0.0.1) for `runs` runs of each row. */
export function pacHosts(runs: number): Record<string, string> {
  const hosts: Record<string, string> = { [JUMP]: LOOPBACK };
  for (let n = 1; n <= runs; n++) hosts[newHost(n)] = LOOPBACK;
  return hosts;
}

/** A PAC as short as many corporate ones: local names direct, everything else through the proxy. */
function pacText(squidPort: number, comment: string): string {
  return `// ${comment}
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example") || shExpMatch(host, "10.*")) return "DIRECT";
  return "PROXY ${LOOPBACK}:${squidPort}";
}
`;
}

/**
 * The same, plus the other common corporate shape: "on the office LAN?" with isInNet(myIpAddress(), ...), the
 * functions that pac-resolver makes asynchronous (and rewrites the script for; burrow does not: src/route/pac-dns.ts).
 * No DNS: myIpAddress reads the interfaces, isInNet gets an address literal.
 */
function pacTextAsync(squidPort: number, comment: string): string {
  return `// ${comment}
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example") || shExpMatch(host, "10.*")) return "DIRECT";
  if (isInNet(myIpAddress(), "198.51.100.0", "255.255.255.0")) return "DIRECT";
  return "PROXY ${LOOPBACK}:${squidPort}";
}
`;
}

export function pacCandidates(setup: Setup): Candidate[] {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-bench-pac-'));
  const cacheHome = join(dir, 'cache');
  const fixed = join(dir, 'proxy.pac');
  writeFileSync(fixed, pacText(setup.squidPort, 'the same PAC every run'));
  let hosts = 0;
  let contents = 0;
  const env = { XDG_CACHE_HOME: cacheHome };
  const connect = (args: string[], host: string, port: number): string[] => [setup.burrow, 'connect', ...args, host, String(port)];
  return [
    {
      id: 'pac-https-proxy',
      label: '(a) HTTPS_PROXY',
      kind: 'reference',
      via: 'squid',
      argv: (p) => connect([], JUMP, p),
      env: { ...env, HTTPS_PROXY: `http://${LOOPBACK}:${setup.squidPort}` },
    },
    { id: 'pac-remembered', label: '(b) --pac, answer remembered', kind: 'burrow', via: 'squid', argv: (p) => connect(['--pac', fixed], JUMP, p), env },
    { id: 'pac-seen', label: '(c) --pac, PAC seen before, new host', kind: 'burrow', via: 'squid', argv: (p) => connect(['--pac', fixed], newHost(++hosts), p), env },
    {
      id: 'pac-first',
      label: '(d) --pac, first time (new content)',
      kind: 'burrow',
      via: 'squid',
      argv: (p) => {
        const file = join(dir, `first-${++contents}.pac`);
        writeFileSync(file, pacText(setup.squidPort, `run ${contents}: content never seen before`));
        return connect(['--pac', file], JUMP, p);
      },
      env,
    },
    {
      id: 'pac-first-async',
      label: '(e) --pac, first time, with isInNet',
      kind: 'burrow',
      via: 'squid',
      argv: (p) => {
        const file = join(dir, `first-async-${++contents}.pac`);
        writeFileSync(file, pacTextAsync(setup.squidPort, `run ${contents}: content never seen before`));
        return connect(['--pac', file], JUMP, p);
      },
      env,
    },
  ];
}

interface Row {
  id: string;
  label: string;
  skipped?: string;
  samples: Array<{ ok: boolean; note?: string }>;
  acceptMs: { median?: number; n: number };
  peakRssKiB: { median?: number };
}

export interface PacRatio {
  acceptMs?: number;
  peakRssMiB?: number;
  /** accept ÷ the HTTPS_PROXY row's. */
  overHttpsProxy?: number;
  target?: number;
  met?: boolean;
}

export interface PacRatios {
  httpsProxy: PacRatio;
  remembered: PacRatio;
  seenBefore: PacRatio;
  firstTime: PacRatio;
  firstTimeRewritten: PacRatio;
}

export function pacRatios(rows: Row[]): PacRatios {
  const base = rows.find((r) => r.id === 'pac-https-proxy')?.acceptMs.median;
  const of = (id: string, target?: number): PacRatio => {
    const row = rows.find((r) => r.id === id);
    const over = ratio(row?.acceptMs.median, base);
    const rss = row?.peakRssKiB.median;
    return {
      acceptMs: row?.acceptMs.median,
      ...(rss !== undefined ? { peakRssMiB: Number((rss / 1024).toFixed(1)) } : {}),
      overHttpsProxy: over,
      ...(target !== undefined ? { target, ...(over !== undefined ? { met: over <= target } : {}) } : {}),
    };
  };
  return {
    httpsProxy: of('pac-https-proxy'),
    remembered: of('pac-remembered', PAC_TARGETS.remembered),
    seenBefore: of('pac-seen', PAC_TARGETS.cold),
    firstTime: of('pac-first', PAC_TARGETS.cold),
    firstTimeRewritten: of('pac-first-async', PAC_TARGETS.cold),
  };
}

export function printPac(rows: Row[], r: PacRatios): void {
  console.log('\nPAC start-up (issue #17): burrow connect to a name through squid, accept ms (median) and peak RSS, against HTTPS_PROXY:');
  const line = (label: string, x: PacRatio): void => {
    const verdict = x.target === undefined ? '' : `   target ≤ ${x.target.toFixed(2)}: ${x.met === undefined ? 'n/a' : x.met ? 'met' : 'NOT met'}`;
    const over = x.target === undefined ? '' : ` = ${fmt(x.overHttpsProxy, 2)}×`;
    console.log(`  ${pad(label, 40)} ${pad(fmt(x.acceptMs), 7, true)} ms ${pad(fmt(x.peakRssMiB), 6, true)} MiB${over}${verdict}`);
  };
  line('(a) HTTPS_PROXY', r.httpsProxy);
  line('(b) --pac, answer remembered', r.remembered);
  line('(c) --pac, PAC seen before, new host', r.seenBefore);
  line('(d) --pac, first time (new content)', r.firstTime);
  line('(e) --pac, first time, with isInNet', r.firstTimeRewritten);
  for (const row of rows) {
    const failed = row.samples.filter((s) => !s.ok);
    if (row.skipped) console.log(`  ${row.label}: skipped: ${row.skipped}`);
    if (failed.length) console.log(`  ${row.label}: ${failed.length} failed run(s): ${failed[0]!.note ?? ''}`);
  }
  console.log(`  medians of ${rows[0]?.acceptMs.n ?? 0} runs each; peak RSS is VmHWM while the tunnel is open.`);
  console.log('  (c), (d) and (e) are all "cold" (the answer not remembered); (c) finds the compiled PAC in the per-user cache;');
  console.log('  (e) calls isInNet(myIpAddress(), ...), the functions pac-resolver would rewrite the script for.');
}
