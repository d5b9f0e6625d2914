// bench:forward's settings (from the environment) and fixed sizes. See bench/forward.ts for what each part measures.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBytes, parseCount } from './util.ts';

// dist/bench-forward.mjs and bench/forward-settings.ts both sit one level below the repository root.
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const settings = {
  conns: parseCount(process.env.BENCH_FWD_CONNS, 1000, 'BENCH_FWD_CONNS'),
  concurrency: parseCount(process.env.BENCH_FWD_CONCURRENCY, 8, 'BENCH_FWD_CONCURRENCY'),
  streams: parseCount(process.env.BENCH_FWD_STREAMS, 8, 'BENCH_FWD_STREAMS'),
  streamBytes: parseBytes(process.env.BENCH_FWD_STREAM_BYTES, 128 * 2 ** 20, 'BENCH_FWD_STREAM_BYTES'),
  runs: parseCount(process.env.BENCH_FWD_RUNS, 3, 'BENCH_FWD_RUNS'),
  idle: parseCount(process.env.BENCH_FWD_IDLE, 1000, 'BENCH_FWD_IDLE'),
  parts: new Set((process.env.BENCH_FWD_PARTS ?? 'rate,throughput,memory').split(',').map((s) => s.trim())),
  tools: process.env.BENCH_TOOLS ? new Set(process.env.BENCH_TOOLS.split(',').map((s) => s.trim())) : undefined,
  burrow: resolve(process.env.BENCH_BURROW ?? `${ROOT}/bin/burrow`),
  out: resolve(process.env.BENCH_OUT ?? `${ROOT}/bench/results/forward-latest.json`),
};
export const WARMUP_CONNS = 300;
export const PAYLOAD = Buffer.from('burrow-bench-16b');
/** One short tunnel may take this long before it counts as failed. */
export const TUNNEL_TIMEOUT_MS = 10_000;
/** Opening the idle tunnels: at most this many handshakes at once (proxytunnel listens with a backlog of 8). */
export const IDLE_OPEN_CONCURRENCY = 8;
/** Let the forwarder settle (allocations, deferred frees) before reading its RSS. */
export const SETTLE_MS = 1000;
export const throughputTimeoutMs = (bytes: number): number => Math.max(20_000, (bytes / 25e6) * 1000);
export const TARGET_KIB_PER_TUNNEL = 64;
