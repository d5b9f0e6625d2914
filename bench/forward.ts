// `npm run bench:forward`: `burrow forward -L` against `socat TCP-LISTEN:…,fork PROXY:` and `proxytunnel -a`, all
// through one local squid (no auth), on 127.0.0.1 only (issue 3, "Benchmarks"). Not a test: nothing is asserted; it
// prints a table and writes bench/results/forward-latest.json. Each forwarder is started afresh for each part.
//
//   (1) connection rate: short tunnels (connect, send 16 bytes, read them back from the echo target, which then
//       closes; wait for the close), BENCH_FWD_CONNS of them one after another and again with BENCH_FWD_CONCURRENCY
//       at once, BENCH_FWD_RUNS rounds (round-robin) after a warm-up; tunnels per second (the median round), latency
//       percentiles, and the CPU the forwarder (and squid) spent per tunnel. The target closing first keeps
//       TIME_WAIT on the listening side of each hop: with the client closing first, tens of thousands of TIME_WAIT
//       sockets on ephemeral ports made every connect() (the forwarders' and squid's) slower as the run went on,
//       which penalised whichever forwarder came last.
//   (2) throughput: BENCH_FWD_STREAMS parallel streams of BENCH_FWD_STREAM_BYTES each (written by a worker thread
//       from one zero-filled buffer) to the counting sink; aggregate MB/s (10^6) from the worker's start until the
//       sink has every byte, median of BENCH_FWD_RUNS (round-robin).
//   (3) memory per idle tunnel: (RSS with BENCH_FWD_IDLE tunnels open, each having echoed once) − (RSS after a
//       warm-up with none), ÷ BENCH_FWD_IDLE. RSS is VmRSS from /proc, summed over the forwarder's process tree
//       (socat and proxytunnel fork one process per connection); PSS (smaps_rollup), which shares the pages those
//       processes have in common instead of counting them once per process, is shown beside it.
//
// Targets (issue 3): connection rate and throughput ≥ socat's; ≤ 64 KiB per idle tunnel.
//
// Settings (environment): BENCH_FWD_CONNS (1000), BENCH_FWD_CONCURRENCY (8), BENCH_FWD_STREAMS (8),
// BENCH_FWD_STREAM_BYTES (128M), BENCH_FWD_RUNS (3), BENCH_FWD_IDLE (1000), BENCH_FWD_PARTS (rate,throughput,memory),
// BENCH_TOOLS (socat,socat-backlog,proxytunnel,burrow), BENCH_BURROW (another burrow executable, e.g. a scratch build),
// BENCH_OUT (default bench/results/forward-latest.json).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cleanEnv, findBinary, freePort, LOOPBACK, startSquid, whyCannotRun, type SquidPeer } from '../test/helpers/real-peers.ts';
import { startEchoTarget, startSink, type EchoTarget, type Sink } from './servers.ts';
import { forwardCandidates, nodeVersion, squidVersion, type ForwardCandidate, type Setup } from './tools.ts';
import { fmt, median, pad, parseBytes, parseCount, quantile, ratio, round, runBench } from './util.ts';

// dist/bench-forward.mjs and bench/forward.ts both sit one level below the repository root.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// Settings



const settings = {
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
const WARMUP_CONNS = 300;
const PAYLOAD = Buffer.from('burrow-bench-16b');
/** One short tunnel may take this long before it counts as failed. */
const TUNNEL_TIMEOUT_MS = 10_000;
/** Opening the idle tunnels: at most this many handshakes at once (proxytunnel listens with a backlog of 8). */
const IDLE_OPEN_CONCURRENCY = 8;
/** Let the forwarder settle (allocations, deferred frees) before reading its RSS. */
const SETTLE_MS = 1000;
const throughputTimeoutMs = (bytes: number): number => Math.max(20_000, (bytes / 25e6) * 1000);
const TARGET_KIB_PER_TUNNEL = 64;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


// ---------------------------------------------------------------------------------------------------------------
// /proc: process trees, their RSS, PSS and CPU time, and who listens on a port

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

interface ProcStat {
  state: string;
  ppid: number;
  /** utime + stime + cutime + cstime, in seconds. */
  cpu: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK };
  } catch {
    return undefined; // gone
  }
}

/** `root` and all its descendants alive now (zombies included: their CPU time still counts until reaped). */
function processTree(root: number): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) all.set(Number(name), stat);
  }
  const tree = new Map<number, ProcStat>();
  if (!all.has(root)) return tree;
  tree.set(root, all.get(root)!);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, stat] of all) {
      if (!tree.has(pid) && tree.has(stat.ppid)) {
        tree.set(pid, stat);
        grew = true;
      }
    }
  }
  return tree;
}

function statusKiB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface TreeMemory {
  processes: number;
  rssKiB: number;
  pssKiB: number;
}

function treeMemory(root: number): TreeMemory {
  const pids = [...processTree(root).keys()];
  return {
    processes: pids.length,
    rssKiB: pids.reduce((sum, pid) => sum + statusKiB(pid, 'VmRSS'), 0),
    pssKiB: pids.reduce((sum, pid) => sum + pssKiB(pid), 0),
  };
}

/** CPU seconds spent by the tree so far: the live processes' own time plus what their reaped children left them. */
function treeCpu(root: number): number {
  let sum = 0;
  for (const stat of processTree(root).values()) sum += stat.cpu;
  return sum;
}

/** The pids holding a TCP socket listening on `port` (any address), or [] when nobody listens yet. */
function listenerPids(port: number): number[] {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address rem_address st ... inode (field 9)
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${name}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) {
          pids.push(Number(name));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return pids;
}

/** Busy CPU time of the whole machine so far (all cores), in seconds: to tell whether a run had the CPUs to itself. */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / CLK_TCK;
}

function openFilesLimit(): { soft?: number; hard?: number } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (s: string | undefined) => (s && s !== 'unlimited' ? Number(s) : undefined);
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

// ---------------------------------------------------------------------------------------------------------------
// A running forwarder

interface Forwarder {
  port: number;
  /** The process that accepts (for proxytunnel: the daemon, not the process spawned); its tree is what is measured. */
  root: number;
  stop(): Promise<void>;
}

const started = new Set<Forwarder>();

async function startForwarder(c: ForwardCandidate, targetPort: number): Promise<Forwarder> {
  const listenPort = c.printsPort ? 0 : await freePort();
  const argv = c.argv!(listenPort, targetPort);
  const env = cleanEnv({ NODE_OPTIONS: undefined, NODE_EXTRA_CA_CERTS: undefined });
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
  child.once('error', (e) => (exited = e.message));

  const deadline = performance.now() + 15_000;
  let port = listenPort;
  let pids: number[] = [];
  while (performance.now() < deadline) {
    if (c.printsPort && port === 0) {
      const m = /^(\d+)\n/.exec(stdout);
      if (m) port = Number(m[1]);
    }
    if (port !== 0) {
      pids = listenerPids(port);
      if (pids.length) break;
    }
    // proxytunnel's first process exits once the daemon runs: only an exit before anyone listens is a failure.
    if (exited && !c.forks) break;
    if (exited && c.forks && exited !== 'exited (0)') break;
    await sleep(20);
  }
  const kill = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // group gone
    }
  };
  if (!pids.length) {
    kill();
    throw new Error(`${c.id} did not listen within 15 s${exited ? ` (${exited})` : ''}: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no message'}`);
  }
  // The listening socket is inherited by forked children: the root is the holder whose parent does not hold it.
  const root = pids.find((pid) => !pids.includes(readStat(pid)?.ppid ?? -1)) ?? pids[0]!;
  const forwarder: Forwarder = {
    port,
    root,
    async stop() {
      started.delete(forwarder);
      // Our own processes, by pid: the tree (proxytunnel's daemon has left the spawned process's tree) and the group.
      // SIGTERM first (burrow exits at once when no tunnel is open, e.g. to write a --cpu-prof profile), then SIGKILL.
      const signal = (sig: NodeJS.Signals): void => {
        for (const pid of processTree(root).keys()) {
          try {
            process.kill(pid, sig);
          } catch {
            // gone
          }
        }
      };
      signal('SIGTERM');
      const grace = performance.now() + 1000;
      while (performance.now() < grace && (readStat(root)?.state ?? 'Z') !== 'Z') await sleep(20);
      signal('SIGKILL');
      kill();
      const until = performance.now() + 5000;
      while (performance.now() < until && listenerPids(port).length) await sleep(20);
    },
  };
  started.add(forwarder);
  return forwarder;
}

// ---------------------------------------------------------------------------------------------------------------
// Clients

/**
 * One short tunnel: connect, send PAYLOAD, read it back, wait for the close. Resolves ms, or why it failed. With
 * `clientEnds` the client ends once it has the echo (the plain echo target); else the target ends first (see
 * EchoTargetOptions.closeAfterBytes) and the client answers its FIN.
 */
function shortTunnel(port: number, clientEnds = true): Promise<number | string> {
  return new Promise((resolveTunnel) => {
    const t0 = performance.now();
    const socket = net.connect({ port, host: LOOPBACK, noDelay: true });
    let got = 0;
    let done = false;
    const finish = (result: number | string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolveTunnel(result);
    };
    const timer = setTimeout(() => finish(`no close within ${TUNNEL_TIMEOUT_MS / 1000} s (${got} of ${PAYLOAD.length} bytes back)`), TUNNEL_TIMEOUT_MS);
    socket.on('connect', () => socket.write(PAYLOAD));
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= PAYLOAD.length && clientEnds) socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish(`error ${e.code ?? e.message} (${got} bytes back)`));
    socket.on('close', () => finish(got >= PAYLOAD.length ? performance.now() - t0 : `closed with ${got} of ${PAYLOAD.length} bytes back`));
  });
}

/** One idle tunnel: connect, echo PAYLOAD once (so it is open end to end), and leave it open. */
function idleTunnel(port: number): Promise<net.Socket> {
  return new Promise((resolveTunnel, reject) => {
    const socket = net.connect({ port, host: LOOPBACK, noDelay: true });
    let got = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no echo within ${TUNNEL_TIMEOUT_MS / 1000} s`));
    }, TUNNEL_TIMEOUT_MS);
    socket.on('connect', () => socket.write(PAYLOAD));
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= PAYLOAD.length) {
        clearTimeout(timer);
        resolveTunnel(socket);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`error ${e.code ?? e.message}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed with ${got} of ${PAYLOAD.length} bytes back`));
    });
  });
}

/** Runs `count` tasks, `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// (1) connection rate

interface RateSample {
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

async function rateRun(f: Forwarder, squid: SquidPeer, conns: number, concurrency: number): Promise<RateSample> {
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

interface RateRow {
  /** The run with the median rate (its latencies and CPU figures belong to that run). */
  sequential?: RateSample;
  concurrent?: RateSample;
  runs: { sequential: RateSample[]; concurrent: RateSample[] };
}

function medianRun(samples: RateSample[]): RateSample | undefined {
  const sorted = [...samples].sort((a, b) => (a.perSecond ?? 0) - (b.perSecond ?? 0));
  return sorted[(sorted.length - 1) >> 1];
}

// ---------------------------------------------------------------------------------------------------------------
// (2) throughput

// The writer: a worker thread (its own event loop, so the sink on the main thread is not slowed by it) writing
// `bytes` per stream from one zero-filled buffer with backpressure, then holding the streams open until told to close.
const WRITER_SOURCE = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const { port, host, streams, bytes } = workerData;
const chunk = Buffer.alloc(1 << 20);
const sockets = [];
for (let i = 0; i < streams; i++) {
  const socket = net.connect({ port, host });
  sockets.push(socket);
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return;
    }
  };
  socket.on('connect', pump);
  socket.on('drain', pump);
  socket.on('data', () => {});
  socket.on('error', (e) => parentPort.postMessage({ error: (e.code || e.message) + ' on stream ' + i }));
  socket.on('close', () => { if (left > 0) parentPort.postMessage({ error: 'stream ' + i + ' closed with ' + left + ' bytes unwritten' }); });
}
parentPort.on('message', () => {
  for (const s of sockets) s.destroy();
  parentPort.close();
});
`;

interface ThroughputSample {
  ok: boolean;
  bytes: number;
  seconds?: number;
  mbps?: number;
  /** First byte at the sink until the last. */
  steadyMbps?: number;
  forwarderCpuSecondsPerGB?: number;
  squidCpuSecondsPerGB?: number;
  /** This process (writer thread and sink) per GB, and how many of the machine's cores were busy on average. */
  benchCpuSecondsPerGB?: number;
  busyCores?: number;
  /** Busy cores not accounted for by the forwarder, squid or this process: other load (and kernel threads). */
  otherCores?: number;
  note?: string;
}

async function throughputRun(f: Forwarder, sink: Sink, squid: SquidPeer, streamBytes: number): Promise<ThroughputSample> {
  const total = streamBytes * settings.streams;
  const run = sink.expect(total);
  const cpu0 = treeCpu(f.root);
  const squid0 = treeCpu(squid.pid);
  const bench0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const worker = new Worker(WRITER_SOURCE, { eval: true, workerData: { port: f.port, host: LOOPBACK, streams: settings.streams, bytes: streamBytes } });
  const errors: string[] = [];
  worker.on('message', (m: { error?: string }) => {
    if (m.error && errors.length < 3) errors.push(m.error);
  });
  worker.on('error', (e) => errors.push(e.message));
  const deadline = t0 + throughputTimeoutMs(total);
  // The sink settles on the first stream that ends, so its byte count is what tells the run is complete.
  while (run.completeAt === undefined && performance.now() < deadline) {
    if (errors.length) {
      await sleep(500); // a stream broke: give what is in flight a moment, then stop waiting
      break;
    }
    await sleep(5);
  }
  // Read the forwarder's CPU now, while the streams (and socat's or proxytunnel's children) are still open.
  const cpu = treeCpu(f.root) - cpu0;
  const squidCpu = treeCpu(squid.pid) - squid0;
  const benchUsage = process.cpuUsage(bench0);
  const elapsed = (performance.now() - t0) / 1000;
  const benchCpu = (benchUsage.user + benchUsage.system) / 1e6;
  const busyCores = (machineBusySeconds() - busy0) / elapsed;
  const otherCores = busyCores - (cpu + squidCpu + benchCpu) / elapsed;
  worker.postMessage('close');
  await Promise.race([new Promise((r) => worker.once('exit', r)), sleep(2000).then(() => worker.terminate())]);
  const ok = run.completeAt !== undefined && run.bytes === total;
  const seconds = run.completeAt !== undefined ? (run.completeAt - t0) / 1000 : undefined;
  const steady = run.completeAt !== undefined && run.firstByteAt !== undefined ? (run.completeAt - run.firstByteAt) / 1000 : undefined;
  const gb = total / 1e9;
  const notes = [...errors];
  if (!ok && run.completeAt === undefined) notes.push(`${run.bytes} of ${total} bytes at the sink`);
  return {
    ok,
    bytes: total,
    ...(seconds !== undefined ? { seconds: round(seconds, 3), mbps: round(total / seconds / 1e6, 1) } : {}),
    ...(steady ? { steadyMbps: round(total / steady / 1e6, 1) } : {}),
    ...(ok
      ? {
          forwarderCpuSecondsPerGB: round(cpu / gb, 2),
          squidCpuSecondsPerGB: round(squidCpu / gb, 2),
          benchCpuSecondsPerGB: round(benchCpu / gb, 2),
          busyCores: round(busyCores, 2),
          otherCores: round(otherCores, 2),
        }
      : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// (3) memory per idle tunnel

interface MemorySample {
  tunnels: number;
  before: TreeMemory;
  open: TreeMemory;
  /** After the clients closed them (does the memory come back?). */
  after?: TreeMemory;
  rssKiBPerTunnel?: number;
  pssKiBPerTunnel?: number;
  note?: string;
}

async function memoryRun(f: Forwarder, tunnels: number): Promise<MemorySample> {
  // Warm-up: whatever is loaded or allocated once, on the first tunnels, belongs to the baseline.
  await pool(20, 4, () => shortTunnel(f.port));
  await sleep(SETTLE_MS);
  const before = treeMemory(f.root);
  const sockets: net.Socket[] = [];
  const failures: string[] = [];
  await pool(tunnels, IDLE_OPEN_CONCURRENCY, async () => {
    try {
      sockets.push(await idleTunnel(f.port));
    } catch (e) {
      failures.push((e as Error).message);
    }
  });
  await sleep(SETTLE_MS);
  const open = treeMemory(f.root);
  for (const s of sockets) s.destroy();
  await sleep(SETTLE_MS);
  const after = treeMemory(f.root);
  const n = sockets.length;
  return {
    tunnels: n,
    before,
    open,
    after,
    ...(n ? { rssKiBPerTunnel: round((open.rssKiB - before.rssKiB) / n, 1), pssKiBPerTunnel: round((open.pssKiB - before.pssKiB) / n, 1) } : {}),
    ...(failures.length ? { note: `${failures.length} of ${tunnels} tunnels did not open: ${failures[0]}` } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Rows and report

interface Row {
  id: string;
  label: string;
  kind: ForwardCandidate['kind'];
  version?: string;
  command?: string;
  note?: string;
  skipped?: string;
  rate?: RateRow;
  throughput?: {
    samples: ThroughputSample[];
    mbps?: number;
    min?: number;
    max?: number;
    steadyMbps?: number;
    forwarderCpuSecondsPerGB?: number;
    squidCpuSecondsPerGB?: number;
    benchCpuSecondsPerGB?: number;
    busyCores?: number;
    otherCores?: number;
  };
  memory?: MemorySample;
  errors: string[];
}

function rangeOf(r: Row, concurrency: number): string {
  const all = (concurrency === 1 ? r.rate?.runs.sequential : r.rate?.runs.concurrent) ?? [];
  const v = all.map((s) => s.perSecond).filter((x): x is number => x !== undefined);
  return v.length ? `${Math.min(...v)}–${Math.max(...v)}` : '—';
}

function printReport(rows: Row[]): void {
  const live = rows.filter((r) => !r.skipped);
  for (const r of rows.filter((r) => r.skipped)) console.log(`skipped ${r.label}: ${r.skipped}`);
  if (settings.parts.has('rate')) {
    console.log(`\n(1) Short tunnels: connect, ${PAYLOAD.length} bytes echoed, the target closes — ${settings.conns} per run, the run with the median rate of ${settings.runs} (after ${WARMUP_CONNS} warm-up)`);
    console.log(`${pad('forwarder', 32)} ${pad('conc', 4, true)} ${pad('tunnels/s', 9, true)} ${pad('min–max', 11, true)} ${pad('p50 ms', 7, true)} ${pad('p99 ms', 7, true)} ${pad('max ms', 7, true)} ${pad('fwd CPU µs', 11, true)} ${pad('squid µs', 9, true)} ${pad('bench µs', 9, true)} ${pad('busy', 5, true)} ${pad('failed', 6, true)}`);
    for (const r of live) {
      for (const s of [r.rate?.sequential, r.rate?.concurrent]) {
        if (!s) continue;
        console.log(
          `${pad(r.label, 32)} ${pad(String(s.concurrency), 4, true)} ${pad(fmt(s.perSecond, 0), 9, true)} ${pad(rangeOf(r, s.concurrency), 11, true)} ${pad(fmt(s.p50Ms, 2), 7, true)} ${pad(fmt(s.p99Ms, 2), 7, true)} ${pad(fmt(s.maxMs, 1), 7, true)} ${pad(fmt(s.forwarderCpuUsPerConn, 0), 11, true)} ${pad(fmt(s.squidCpuUsPerConn, 0), 9, true)} ${pad(fmt(s.benchCpuUsPerConn, 0), 9, true)} ${pad(fmt(s.busyCores, 2), 5, true)} ${pad(String(s.failures), 6, true)}`,
        );
        if (s.firstFailure) console.log(`    first failure: ${s.firstFailure}`);
      }
    }
    console.log('fwd CPU / squid / bench µs: CPU time per tunnel of the forwarder (its whole process tree), squid, and this process (clients, target); busy: cores busy machine-wide.');
  }
  if (settings.parts.has('throughput')) {
    const mib = settings.streamBytes / 2 ** 20;
    console.log(`\n(2) Throughput: ${settings.streams} parallel streams × ${fmt(mib, 0)} MiB to a counting sink, median of ${settings.runs}`);
    console.log(`${pad('forwarder', 32)} ${pad('MB/s', 7, true)} ${pad('min–max', 11, true)} ${pad('steady', 7, true)} ${pad('fwd CPU s/GB', 13, true)} ${pad('squid s/GB', 11, true)} ${pad('bench s/GB', 11, true)} ${pad('busy cores', 11, true)} ${pad('other', 6, true)}`);
    for (const r of live) {
      const t = r.throughput;
      if (!t) continue;
      const range = t.min !== undefined ? `${fmt(t.min, 0)}–${fmt(t.max, 0)}` : '—';
      console.log(`${pad(r.label, 32)} ${pad(fmt(t.mbps), 7, true)} ${pad(range, 11, true)} ${pad(fmt(t.steadyMbps), 7, true)} ${pad(fmt(t.forwarderCpuSecondsPerGB, 2), 13, true)} ${pad(fmt(t.squidCpuSecondsPerGB, 2), 11, true)} ${pad(fmt(t.benchCpuSecondsPerGB, 2), 11, true)} ${pad(`${fmt(t.busyCores, 2)}/${os.cpus().length}`, 11, true)} ${pad(fmt(t.otherCores, 2), 6, true)}`);
      for (const s of t.samples) if (s.note) console.log(`    note: ${s.note}`);
    }
    console.log('CPU s/GB: the forwarder (its process tree), squid, and this process (the writer thread and the sink); busy cores: the whole machine; other: busy cores none of those three account for (other load, kernel threads).');
  }
  if (settings.parts.has('memory')) {
    console.log(`\n(3) Idle tunnels: memory of the forwarder's process tree with ${settings.idle} open (each echoed once) vs none`);
    console.log(`${pad('forwarder', 32)} ${pad('procs', 6, true)} ${pad('RSS before', 11, true)} ${pad('RSS open', 10, true)} ${pad('after', 8, true)} ${pad('KiB/tunnel', 11, true)} ${pad('PSS KiB/tun', 12, true)}`);
    const mibOf = (kib: number | undefined): string => (kib === undefined ? '—' : `${(kib / 1024).toFixed(1)}M`);
    for (const r of live) {
      const m = r.memory;
      if (!m) continue;
      console.log(
        `${pad(r.label, 32)} ${pad(String(m.open.processes), 6, true)} ${pad(mibOf(m.before.rssKiB), 11, true)} ${pad(mibOf(m.open.rssKiB), 10, true)} ${pad(mibOf(m.after?.rssKiB), 8, true)} ${pad(fmt(m.rssKiBPerTunnel), 11, true)} ${pad(fmt(m.pssKiBPerTunnel), 12, true)}`,
      );
      if (m.note) console.log(`    note: ${m.note}`);
    }
    console.log('RSS summed over processes counts shared pages (libc, the binary) once per forked process; PSS shares them out.');
  }
  for (const r of live) for (const e of r.errors) console.log(`${r.id}: ${e}`);
}

interface Verdict {
  burrow?: number;
  socat?: number;
  socatRow?: string;
  ratio?: number;
  target: string;
  met?: boolean;
}

/** socat's figure for a measure: the better of the two socat rows (the command from the issue, and with a backlog). */
function bestSocat(rows: Row[], value: (r: Row) => number | undefined): { id?: string; value?: number } {
  const candidates = rows.filter((r) => r.id.startsWith('socat') && !r.skipped && value(r) !== undefined);
  const best = candidates.sort((a, b) => value(b)! - value(a)!)[0];
  return best ? { id: best.id, value: value(best) } : {};
}

function verdicts(rows: Row[]): Record<string, Verdict> {
  const burrow = rows.find((r) => r.id === 'burrow' && !r.skipped);
  const cmp = (value: (r: Row) => number | undefined): Verdict => {
    const b = burrow ? value(burrow) : undefined;
    const s = bestSocat(rows, value);
    const r = ratio(b, s.value);
    return { burrow: b, socat: s.value, ...(s.id ? { socatRow: s.id } : {}), ratio: r, target: 'burrow ÷ best socat ≥ 1.0', ...(r !== undefined ? { met: r >= 1 } : {}) };
  };
  const out: Record<string, Verdict> = {};
  if (settings.parts.has('rate')) {
    out.rateSequential = cmp((r) => r.rate?.sequential?.perSecond);
    out.rateConcurrent = cmp((r) => r.rate?.concurrent?.perSecond);
  }
  if (settings.parts.has('throughput')) out.throughput = cmp((r) => r.throughput?.mbps);
  if (settings.parts.has('memory')) {
    const kib = burrow?.memory?.rssKiBPerTunnel;
    const socat = rows.find((r) => r.id === 'socat' && !r.skipped);
    out.idleMemory = { burrow: kib, socat: socat?.memory?.rssKiBPerTunnel, target: `burrow ≤ ${TARGET_KIB_PER_TUNNEL} KiB RSS per idle tunnel`, ...(kib !== undefined ? { met: kib <= TARGET_KIB_PER_TUNNEL } : {}) };
  }
  return out;
}

function printVerdicts(v: Record<string, Verdict>, rows: Row[]): void {
  console.log('\nAgainst the targets (issue 3):');
  const pt = rows.find((r) => r.id === 'proxytunnel' && !r.skipped);
  const say = (name: string, x: Verdict | undefined, unit: string, ptValue?: number): void => {
    if (!x) return;
    const verdict = x.met === undefined ? 'n/a' : x.met ? 'met' : 'NOT met';
    const vsPt = ptValue !== undefined && x.burrow !== undefined ? `; vs proxytunnel ${fmt(ptValue, unit === 'KiB' ? 1 : 0)} ${unit}: ${fmt(ratio(x.burrow, ptValue), 2)}×` : '';
    if (x.ratio !== undefined || name !== 'idle memory') {
      console.log(`  ${pad(name, 22)} burrow ${fmt(x.burrow, unit === 'KiB' ? 1 : 0)} ${unit} ÷ ${x.socatRow ?? 'socat'} ${fmt(x.socat, unit === 'KiB' ? 1 : 0)} ${unit} = ${fmt(x.ratio, 2)}   ${x.target}: ${verdict}${vsPt}`);
    } else {
      console.log(`  ${pad(name, 22)} burrow ${fmt(x.burrow, 1)} KiB (socat ${fmt(x.socat, 1)} KiB${ptValue !== undefined ? `, proxytunnel ${fmt(ptValue, 1)} KiB` : ''})   ${x.target}: ${verdict}`);
    }
  };
  say(`rate, one at a time`, v.rateSequential, 'tunnels/s', pt?.rate?.sequential?.perSecond);
  say(`rate, ${settings.concurrency} at once`, v.rateConcurrent, 'tunnels/s', pt?.rate?.concurrent?.perSecond);
  say(`throughput ×${settings.streams}`, v.throughput, 'MB/s', pt?.throughput?.mbps);
  say('idle memory', v.idleMemory, 'KiB', pt?.memory?.rssKiBPerTunnel);
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const t0 = performance.now();
  const progress = (s: string): void => {
    const line = `[${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
  };
  const loadAtStart = os.loadavg().map((x) => round(x, 2));
  const why = whyCannotRun('squid');
  if (why) {
    console.error(`bench:forward: cannot run: ${why}. The benchmark measures every forwarder through a real local squid.`);
    return 1;
  }
  // Each idle tunnel holds two descriptors here (client, echo target's end), two in the forwarder and two in squid.
  const limits = openFilesLimit();
  const needed = 2 * settings.idle + 256;
  let idleCount = settings.idle;
  const limitNote: string[] = [];
  if (limits.soft !== undefined && limits.soft < needed) {
    idleCount = Math.max(10, Math.floor((limits.soft - 256) / 2));
    limitNote.push(`ulimit -n is ${limits.soft} (needs ${needed} for ${settings.idle} idle tunnels): measuring ${idleCount}; raise it with "ulimit -n ${needed}" or prlimit`);
  }

  let squid: SquidPeer | undefined;
  let sink: Sink | undefined;
  let target: EchoTarget | undefined;
  let shortTarget: EchoTarget | undefined;
  const cleanup = async (): Promise<void> => {
    for (const f of [...started]) await f.stop();
    sink?.close();
    target?.close();
    shortTarget?.close();
    await squid?.stop();
  };
  process.once('SIGINT', () => {
    process.stderr.write('\nbench:forward: interrupted, stopping the forwarders and squid\n');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    progress('starting squid');
    squid = await startSquid();
    sink = await startSink();
    target = await startEchoTarget();
    // The short tunnels' target ends each connection after the echo (TIME_WAIT then stays off the clients' ports).
    shortTarget = await startEchoTarget({ closeAfterBytes: PAYLOAD.length });
    const node = findBinary('node') ?? process.execPath;
    const setup: Setup = { squidPort: squid.port, burrow: settings.burrow, node };
    const candidates = forwardCandidates(setup).filter((c) => !settings.tools || settings.tools.has(c.id));
    const rows: Row[] = candidates.map((c) => ({
      id: c.id,
      label: c.label,
      kind: c.kind,
      ...(c.version ? { version: c.version } : {}),
      ...(c.argv ? { command: c.argv(c.printsPort ? 0 : 11111, 22222).join(' ').replaceAll('11111', 'PORT').replaceAll('22222', 'TARGET').replaceAll(String(squid!.port), 'SQUID') } : {}),
      ...(c.note ? { note: c.note } : {}),
      ...(c.skip ? { skipped: c.skip } : {}),
      errors: [],
    }));
    const active = candidates.map((c, i) => ({ c, row: rows[i]! })).filter(({ row }) => !row.skipped);

    // Smoke test each: a forwarder that cannot carry one tunnel is skipped with the reason.
    for (const { c, row } of active) {
      progress(`checking ${c.id}`);
      try {
        const f = await startForwarder(c, target.port);
        const r = await shortTunnel(f.port);
        await f.stop();
        if (typeof r === 'string') row.skipped = `one tunnel through it failed: ${r}`;
      } catch (e) {
        row.skipped = (e as Error).message;
      }
    }
    const runnable = active.filter(({ row }) => !row.skipped);

    if (settings.parts.has('rate')) {
      const forwarders = new Map<string, Forwarder>();
      try {
        for (const { c, row } of runnable) {
          progress(`rate ${c.id}: warm-up`);
          const f = await startForwarder(c, shortTarget.port);
          forwarders.set(c.id, f);
          await pool(WARMUP_CONNS, settings.concurrency, () => shortTunnel(f.port, false));
          row.rate = { runs: { sequential: [], concurrent: [] } };
        }
        // Round-robin, so that drift (squid's state, other load) spreads over every forwarder.
        for (let r = 0; r < settings.runs; r++) {
          for (const { c, row } of runnable) {
            const f = forwarders.get(c.id)!;
            const sequential = await rateRun(f, squid, settings.conns, 1);
            await sleep(200);
            const concurrent = await rateRun(f, squid, settings.conns, settings.concurrency);
            await sleep(200);
            row.rate!.runs.sequential.push(sequential);
            row.rate!.runs.concurrent.push(concurrent);
            const failed = sequential.failures + concurrent.failures;
            progress(`rate ${c.id} run ${r + 1}/${settings.runs}: ${sequential.perSecond} tunnels/s one at a time, ${concurrent.perSecond} with ${settings.concurrency} at once${failed ? `, ${failed} failed` : ''}`);
          }
        }
      } finally {
        for (const f of forwarders.values()) await f.stop();
      }
      for (const { row } of runnable) {
        const seq = medianRun(row.rate!.runs.sequential);
        const conc = medianRun(row.rate!.runs.concurrent);
        row.rate = { ...(seq ? { sequential: seq } : {}), ...(conc ? { concurrent: conc } : {}), runs: row.rate!.runs };
      }
    }

    // socat with a backlog differs from socat only in how it accepts: it is measured for the connection rate alone.
    const streamers = runnable.filter(({ c }) => c.id !== 'socat-backlog');
    if (settings.parts.has('throughput')) {
      const forwarders = new Map<string, Forwarder>();
      try {
        for (const { c, row } of streamers) {
          forwarders.set(c.id, await startForwarder(c, sink.port)); // to the counting sink, not the echo target
          row.throughput = { samples: [] };
          // Warm-up: one stream's worth (the JIT, squid's buffers, the page cache).
          const warm = await throughputRun(forwarders.get(c.id)!, sink, squid, Math.min(settings.streamBytes, 16 * 2 ** 20));
          if (!warm.ok) row.errors.push(`throughput warm-up failed: ${warm.note ?? ''}`);
        }
        // Round-robin, so that drift spreads over every forwarder.
        for (let r = 0; r < settings.runs; r++) {
          for (const { c, row } of streamers) {
            const sample = await throughputRun(forwarders.get(c.id)!, sink, squid, settings.streamBytes);
            row.throughput!.samples.push(sample);
            progress(`throughput ${c.id} run ${r + 1}/${settings.runs}: ${sample.ok ? `${sample.mbps} MB/s` : `FAILED ${sample.note ?? ''}`}`);
          }
        }
      } finally {
        for (const f of forwarders.values()) await f.stop();
      }
      for (const { row } of streamers) {
        const good = row.throughput!.samples.filter((s) => s.ok);
        const pick = (k: 'mbps' | 'steadyMbps' | 'forwarderCpuSecondsPerGB' | 'squidCpuSecondsPerGB' | 'benchCpuSecondsPerGB' | 'busyCores' | 'otherCores') => good.map((s) => s[k]).filter((x): x is number => x !== undefined);
        row.throughput = {
          ...row.throughput!,
          mbps: round(median(pick('mbps'))),
          min: round(pick('mbps').length ? Math.min(...pick('mbps')) : undefined),
          max: round(pick('mbps').length ? Math.max(...pick('mbps')) : undefined),
          steadyMbps: round(median(pick('steadyMbps'))),
          forwarderCpuSecondsPerGB: round(median(pick('forwarderCpuSecondsPerGB')), 2),
          squidCpuSecondsPerGB: round(median(pick('squidCpuSecondsPerGB')), 2),
          benchCpuSecondsPerGB: round(median(pick('benchCpuSecondsPerGB')), 2),
          busyCores: round(median(pick('busyCores')), 2),
          otherCores: round(median(pick('otherCores')), 2),
        };
      }
    }

    if (settings.parts.has('memory')) {
      for (const { c, row } of streamers) {
        progress(`memory ${c.id}: opening ${idleCount} idle tunnels`);
        const f = await startForwarder(c, target.port);
        try {
          row.memory = await memoryRun(f, idleCount);
          progress(`memory ${c.id}: ${row.memory.rssKiBPerTunnel} KiB RSS per idle tunnel`);
        } finally {
          await f.stop();
        }
      }
    }

    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const cpus = os.cpus();
    const machine = {
      cpu: cpus[0]?.model,
      cores: cpus.length,
      memoryGB: round(os.totalmem() / 2 ** 30, 1),
      kernel: `${os.type()} ${os.release()}`,
      node: nodeVersion(node),
      squid: squidVersion(),
      openFiles: limits,
      loadAverageAtStart: loadAtStart,
    };
    console.log(`burrow bench:forward — ${new Date().toISOString()} — ${machine.cpu ?? 'unknown CPU'}, ${machine.cores} cores, node ${machine.node}, ${machine.squid ?? 'squid'} on 127.0.0.1:${squid.port}; ulimit -n ${limits.soft ?? 'unlimited'}; load average at start ${loadAtStart.join(' ')}`);
    if (settings.burrow !== resolve(`${ROOT}/bin/burrow`)) console.log(`burrow under test: ${settings.burrow} (BENCH_BURROW)`);
    for (const n of limitNote) console.log(`note: ${n}`);
    for (const r of rows) if (r.note && !r.skipped) console.log(`note: ${r.label}: ${r.note}`);
    printReport(rows);
    const v = verdicts(rows);
    printVerdicts(v, rows);

    const results = {
      schema: 1,
      date: new Date().toISOString(),
      durationSeconds: round((performance.now() - t0) / 1000, 1),
      machine,
      settings: {
        conns: settings.conns,
        warmupConns: WARMUP_CONNS,
        concurrency: settings.concurrency,
        payloadBytes: PAYLOAD.length,
        streams: settings.streams,
        streamBytes: settings.streamBytes,
        runs: settings.runs,
        idleTunnels: idleCount,
        burrow: settings.burrow,
        units: 'MB/s = 10^6 bytes per second; KiB = 1024 bytes; CPU from /proc/PID/stat (utime+stime+cutime+cstime) over the process tree',
        ...(limitNote.length ? { notes: limitNote } : {}),
      },
      targets: v,
      rows,
    };
    mkdirSync(dirname(settings.out), { recursive: true });
    writeFileSync(settings.out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nresults: ${settings.out} (${round((performance.now() - t0) / 1000, 0)} s)`);
    return 0;
  } finally {
    await cleanup();
  }
}

runBench('bench:forward', main);
