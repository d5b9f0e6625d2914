// bench:forward (1): connection rate, short tunnels one after another or several at once.
import { performance } from 'node:perf_hooks';
import type { SquidPeer } from '../peers/squid.ts';
import { pool, shortTunnel } from './forward-clients.ts';
import type { Forwarder } from './forwarder.ts';
import { machineBusySeconds, treeCpu } from './proc.ts';
import { quantile, round, sleep } from './util.ts';

export interface RateSample {
  concurrency: number;
  conns: number;
  ok: number;
  failures: number;
  firstFailure?: string;
  seconds: number;
  perSecond?: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** CPU the forwarder's process tree spent per tunnel (µs), and squid's. */
  forwarderCpuUsPerConn?: number;
  squidCpuUsPerConn?: number;
  /** This process (clients and echo target) per tunnel, and the machine's busy cores over the run. */
  benchCpuUsPerConn?: number;
  busyCores?: number;
}

export async function rateRun(f: Forwarder, squid: SquidPeer, conns: number, concurrency: number): Promise<RateSample> {
  const cpu0 = treeCpu(f.root);
  const squid0 = treeCpu(squid.pid);
  const bench0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const results = await pool(conns, concurrency, () => shortTunnel(f.port, false));
  const seconds = (performance.now() - t0) / 1000;
  const busyCores = (machineBusySeconds() - busy0) / seconds;
  const benchUsage = process.cpuUsage(bench0);
  // Forked children that just finished may not be reaped yet: give their CPU time a moment to reach the parent.
  await sleep(100);
  const cpu = treeCpu(f.root) - cpu0;
  const squidCpu = treeCpu(squid.pid) - squid0;
  const times = results.filter((r): r is number => typeof r === 'number');
  const failed = results.filter((r): r is string => typeof r === 'string');
  return {
    concurrency,
    conns,
    ok: times.length,
    failures: failed.length,
    ...(failed.length ? { firstFailure: failed[0] } : {}),
    seconds: round(seconds, 3)!,
    perSecond: round(times.length / seconds, 0),
    p50Ms: round(quantile(times, 0.5), 2),
    p99Ms: round(quantile(times, 0.99), 2),
    maxMs: round(times.length ? Math.max(...times) : undefined, 1),
    forwarderCpuUsPerConn: round((cpu / conns) * 1e6, 0),
    squidCpuUsPerConn: round((squidCpu / conns) * 1e6, 0),
    benchCpuUsPerConn: round((benchUsage.user + benchUsage.system) / conns, 0),
    busyCores: round(busyCores, 2),
  };
}

export interface RateRow {
  /** The run with the median rate (its latencies and CPU figures belong to that run). */
  sequential?: RateSample;
  concurrent?: RateSample;
  runs: { sequential: RateSample[]; concurrent: RateSample[] };
}

export function medianRun(samples: RateSample[]): RateSample | undefined {
  const sorted = [...samples].sort((a, b) => (a.perSecond ?? 0) - (b.perSecond ?? 0));
  return sorted[(sorted.length - 1) >> 1];
}
