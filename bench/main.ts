// `npm run bench`: burrow against the anchors, through one local squid, on 127.0.0.1 only (REFERENCE.md §5, issue 2
// item 8). Not a test: nothing here is asserted; it prints a table and writes bench/results/latest.json.
//
//   (a) throughput: BENCH_BYTES (default 1 GiB) of zeros from a pipe (dd, 1 MiB blocks) through each client and squid
//       into a counting sink; wall time from spawn until the sink has every byte, 3 runs each, median MB/s (10^6).
//   (b) start-up: from spawn until the target accepts the connection through squid, and until a byte written to the
//       client's stdin at spawn comes back on its stdout (the target echoes); `node -e 0` (spawn to exit) is the
//       floor burrow is held to. ~20 runs each, median.
//
// Settings (environment): BENCH_BYTES (bytes, or with K/M/G suffix: binary units), BENCH_RUNS (3),
// BENCH_STARTUP_RUNS (20), BENCH_PARTS (throughput,startup,pac,ssh; ssh: bench/ssh.ts, its own BENCH_SSH_* settings;
// pac: bench/pac.ts, PAC start-up against HTTPS_PROXY, BENCH_STARTUP_RUNS each), BENCH_TOOLS (ids, comma-separated: nc-direct,
// burrow-direct, nc, socat, ncat, corkscrew, burrow, node, burrow-version, node-extra-ca, burrow-extra-ca, burrow-exe,
// burrow-exe-version), BENCH_BURROW (another burrow executable, e.g. a scratch build, to compare), BENCH_EXE (the
// single executable; default dist/exe/burrow-PLATFORM-ARCH, its rows are skipped when it is not built), BENCH_OUT (results file; default bench/results/latest.json),
// BENCH_KEEP_NODE_ENV=1 (keep NODE_OPTIONS and NODE_EXTRA_CA_CERTS in the clients' environment).
//
// The clients run without proxy variables, BURROW_* settings, NODE_OPTIONS and NODE_EXTRA_CA_CERTS: Node 20 reads
// and parses the NODE_EXTRA_CA_CERTS file at every start-up (about 45 ms for Debian's bundle on this machine), which
// would add the same constant to `node -e 0` and to burrow and hide burrow's own cost in the ratio. When the caller
// has it set, one extra row shows what it costs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { findBinary, whyCannotRun } from '../peers/binaries.ts';
import { cleanEnv } from '../peers/env.ts';
import { shellQuote } from '../peers/shell.ts';
import { startSquid, type SquidPeer } from '../peers/squid.ts';
import { startSshd, type SshdPeer } from '../peers/sshd.ts';
import { pacCandidates, pacHosts, pacRatios, printPac, type PacRatios } from './pac.ts';
import { statusKiB } from './proc.ts';
import { benchSsh, printSsh, sshRatios, sshSettings, type SshRatios, type SshRow } from './ssh.ts';
import { startEchoTarget, startSink, type EchoTarget, type Sink } from './servers.ts';
import { generatorCommand, nodeVersion, squidVersion, startupCandidates, throughputCandidates, type Candidate, type Setup } from './tools.ts';
import { fmt, median, pad, parseBytes, parseCount, ratio, round, runBench } from './util.ts';

// dist/bench.mjs and bench/main.ts both sit one level below the repository root.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// Settings



const settings = {
  bytes: parseBytes(process.env.BENCH_BYTES, 2 ** 30, 'BENCH_BYTES'),
  runs: parseCount(process.env.BENCH_RUNS, 3, 'BENCH_RUNS'),
  startupRuns: parseCount(process.env.BENCH_STARTUP_RUNS, 20, 'BENCH_STARTUP_RUNS'),
  parts: new Set((process.env.BENCH_PARTS ?? 'throughput,startup,pac,ssh').split(',').map((s) => s.trim())),
  tools: process.env.BENCH_TOOLS ? new Set(process.env.BENCH_TOOLS.split(',').map((s) => s.trim())) : undefined,
  burrow: resolve(process.env.BENCH_BURROW ?? `${ROOT}/bin/burrow`),
  exe: resolve(process.env.BENCH_EXE ?? `${ROOT}/dist/exe/burrow-${process.platform}-${process.arch}`),
  keepNodeEnv: process.env.BENCH_KEEP_NODE_ENV === '1',
  out: resolve(process.env.BENCH_OUT ?? `${ROOT}/bench/results/latest.json`),
};
const WARMUP_BYTES = Math.min(settings.bytes, 64 * 2 ** 20);
const STARTUP_WARMUPS = 2;
/** A run may take this long: 25 MB/s (anything slower is broken, not slow) with a 20 s floor. */
const throughputTimeoutMs = (bytes: number): number => Math.max(20_000, (bytes / 25e6) * 1000);
/** After the sink has every byte, how long a client may take to notice the tunnel closed and exit. */
const EXIT_GRACE_MS = 5000;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number): Promise<'timeout'> => new Promise((r) => setTimeout(() => r('timeout'), ms).unref());

/** Whether `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const result = await Promise.race([promise.then(() => 'done' as const), sleep(ms)]);
  return result === 'done';
}



interface Stats {
  median?: number;
  min?: number;
  max?: number;
  n: number;
}

function stats(values: Array<number | undefined>, digits = 1): Stats {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return { median: round(median(v), digits), min: round(v.length ? Math.min(...v) : undefined, digits), max: round(v.length ? Math.max(...v) : undefined, digits), n: v.length };
}

function tail(text: string, lines = 4): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

/** The clients' environment (see the header). */
function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const drop = settings.keepNodeEnv ? {} : { NODE_OPTIONS: undefined, NODE_EXTRA_CA_CERTS: undefined };
  return cleanEnv({ ...drop, ...extra });
}

const children = new Set<number>();

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

// ---------------------------------------------------------------------------------------------------------------
// (a) throughput

interface ThroughputSample {
  ok: boolean;
  /** Spawn until the sink had every byte. */
  seconds?: number;
  mbps?: number;
  /** First byte at the sink until the last: the rate with start-up taken out. */
  steadyMbps?: number;
  /** Spawn until the client exited. */
  exitSeconds?: number;
  /** The client's own CPU time (user, system), from the shell's `times`. */
  cpuUser?: number;
  cpuSys?: number;
  /** This process's CPU time while the run lasted: the sink's share. */
  sinkCpu?: number;
  bytes: number;
  note?: string;
}

async function throughputRun(candidate: Candidate, bytes: number, sink: Sink, generator: string): Promise<ThroughputSample> {
  const argv = candidate.argv!(sink.port);
  // The client is a child of a subshell: `times` there reports the client's CPU time alone (not dd's).
  const script = `${generator} | { ${argv.map(shellQuote).join(' ')}; rc=$?; times >&2; exit $rc; }`;
  const run = sink.expect(bytes);
  const t0 = performance.now();
  const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env: clientEnv(candidate.env), detached: true });
  if (child.pid !== undefined) children.add(child.pid);
  child.stdout.resume();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-8192);
  });
  let exit: Exit | undefined;
  const exited = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal, at: performance.now() };
      done();
    });
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
      exit ??= { code: null, signal: null, at: performance.now() };
      done();
    });
  });

  const closed = new Promise<void>((done) => child.once('close', () => done()));
  const notes: string[] = [];
  await within(Promise.all([run.settled, exited]), throughputTimeoutMs(bytes));
  if (!exit) {
    if (run.completeAt !== undefined && !(await within(exited, EXIT_GRACE_MS))) notes.push(`did not exit within ${EXIT_GRACE_MS / 1000} s of the sink having every byte (killed)`);
    else if (run.completeAt === undefined) notes.push(`timed out after ${throughputTimeoutMs(bytes) / 1000} s with ${run.bytes} of ${bytes} bytes at the sink (killed)`);
    killGroup(child.pid);
    await within(exited, 2000);
  } else if (run.completeAt === undefined) {
    await within(run.settled, 2000);
  }
  if (child.pid !== undefined) children.delete(child.pid);
  await within(closed, 2000); // stderr fully read: `times` is its last line

  const times = [...stderr.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].at(-1);
  const cpu = times ? { cpuUser: Number(times[1]) * 60 + Number(times[2]), cpuSys: Number(times[3]) * 60 + Number(times[4]) } : {};
  const ok = run.completeAt !== undefined && run.bytes === bytes;
  if (run.bytes > bytes) notes.push(`the sink got ${run.bytes} bytes, more than the ${bytes} sent`);
  if (!ok && run.completeAt === undefined && exit) notes.push(`exited (${exit.code ?? exit.signal}) with ${run.bytes} of ${bytes} bytes at the sink: ${tail(stderr.replace(/\d+m[\d.]+s \d+m[\d.]+s/g, '')) || 'no message'}`);
  if (exit && exit.code !== 0 && exit.code !== null && ok) notes.push(`exit code ${exit.code}`);
  const seconds = run.completeAt !== undefined ? (run.completeAt - t0) / 1000 : undefined;
  const steady = run.completeAt !== undefined && run.firstByteAt !== undefined ? (run.completeAt - run.firstByteAt) / 1000 : undefined;
  return {
    ok,
    bytes,
    ...(seconds !== undefined ? { seconds: round(seconds, 3), mbps: round(bytes / seconds / 1e6, 1) } : {}),
    ...(steady ? { steadyMbps: round(bytes / steady / 1e6, 1) } : {}),
    ...(exit ? { exitSeconds: round((exit.at - t0) / 1000, 3) } : {}),
    ...cpu,
    sinkCpu: round(sink.cpuMsSinceExpect() / 1000, 3),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

interface ThroughputRow {
  id: string;
  label: string;
  kind: Candidate['kind'];
  via: Candidate['via'];
  version?: string;
  command?: string;
  skipped?: string;
  samples: ThroughputSample[];
  mbps: Stats;
  steadyMbps: Stats;
  /** CPU seconds (user+system) the client spent per GB moved. */
  cpuSecondsPerGB: Stats;
  sinkCpuSecondsPerGB: Stats;
}

async function benchThroughput(candidates: Candidate[], sink: Sink, progress: (s: string) => void): Promise<ThroughputRow[]> {
  const { command: generator } = generatorCommand(settings.bytes);
  const warmGenerator = generatorCommand(WARMUP_BYTES).command;
  const rows = candidates.map<ThroughputRow>((c) => ({
    id: c.id,
    label: c.label,
    kind: c.kind,
    via: c.via,
    ...(c.version ? { version: c.version } : {}),
    ...(c.argv ? { command: c.argv(0).join(' ').replace(/ 0$/, ' SINKPORT') } : {}),
    ...(c.skip ? { skipped: c.skip } : {}),
    samples: [],
    mbps: { n: 0 },
    steadyMbps: { n: 0 },
    cpuSecondsPerGB: { n: 0 },
    sinkCpuSecondsPerGB: { n: 0 },
  }));
  const active = candidates.map((c, i) => ({ c, row: rows[i]! })).filter(({ c }) => c.argv && !c.skip);

  // A short warm-up each (page cache, squid's first tunnel); a client that fails it is left out of the runs.
  for (const { c, row } of active) {
    progress(`warm-up ${c.id}`);
    const sample = await throughputRun(c, WARMUP_BYTES, sink, warmGenerator);
    if (!sample.ok) row.skipped = `failed its warm-up run: ${sample.note ?? 'no bytes at the sink'}`;
  }
  // Round-robin, so that drift (thermal, other load) spreads over every client rather than landing on one.
  for (let r = 0; r < settings.runs; r++) {
    for (const { c, row } of active) {
      if (row.skipped) continue;
      progress(`throughput ${c.id} run ${r + 1}/${settings.runs}`);
      const sample = await throughputRun(c, settings.bytes, sink, generator);
      row.samples.push(sample);
      progress(`throughput ${c.id} run ${r + 1}/${settings.runs}: ${sample.ok ? `${sample.mbps} MB/s` : `FAILED ${sample.note ?? ''}`}`);
    }
  }
  for (const row of rows) {
    const good = row.samples.filter((s) => s.ok);
    row.mbps = stats(good.map((s) => s.mbps));
    row.steadyMbps = stats(good.map((s) => s.steadyMbps));
    row.cpuSecondsPerGB = stats(
      good.map((s) => (s.cpuUser !== undefined && s.cpuSys !== undefined ? (s.cpuUser + s.cpuSys) / (s.bytes / 1e9) : undefined)),
      2,
    );
    row.sinkCpuSecondsPerGB = stats(good.map((s) => (s.sinkCpu !== undefined ? s.sinkCpu / (s.bytes / 1e9) : undefined)), 2);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// (b) start-up

interface StartupSample {
  ok: boolean;
  /** Spawn until the target accepted the connection (through squid, for proxied rows). */
  acceptMs?: number;
  /** Spawn until the byte written to stdin at spawn came back on stdout. */
  roundTripMs?: number;
  /** Spawn until exit (for `node -e 0` and `--version`, the measure itself). */
  exitMs?: number;
  /** The client's peak RSS (VmHWM) while the tunnel was open, after the echo. */
  peakRssKiB?: number;
  note?: string;
}

async function startupRun(candidate: Candidate, target: EchoTarget): Promise<StartupSample> {
  const connects = candidate.via !== 'none';
  const argv = candidate.argv!(target.port);
  const accepted = connects ? target.expectConnection() : undefined;
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: [connects ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: clientEnv(candidate.env) });
  let exit: Exit | undefined;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4096);
  });
  const exited = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal, at: performance.now() };
      done();
    });
    child.once('error', (error) => {
      stderr += error.message;
      exit ??= { code: null, signal: null, at: performance.now() };
      done();
    });
  });
  let roundTripAt: number | undefined;
  const roundTrip = new Promise<void>((done) => {
    child.stdout!.once('data', () => {
      roundTripAt = performance.now();
      done();
    });
    child.stdout!.resume();
  });
  const notes: string[] = [];
  let acceptedAt: number | undefined;
  let peakRssKiB: number | undefined;
  if (connects) {
    child.stdin!.on('error', () => {});
    child.stdin!.write('x');
    void accepted!.then((at) => (acceptedAt = at));
    if (!(await within(Promise.race([accepted!, exited]), 10_000)) || acceptedAt === undefined) {
      // The accept may still be queued behind the exit event.
      await within(accepted!, 200);
    }
    if (acceptedAt !== undefined && !(await within(Promise.race([roundTrip, exited]), 10_000))) notes.push('no echo within 10 s');
    if (!exit && child.pid !== undefined) peakRssKiB = statusKiB(child.pid, 'VmHWM') || undefined;
    child.stdin!.end();
  }
  if (!(await within(exited, connects ? EXIT_GRACE_MS : 10_000))) {
    notes.push('did not exit (killed)');
    child.kill('SIGKILL');
    await within(exited, 2000);
  }
  if (connects && acceptedAt === undefined) notes.push(`the target saw no connection (exit ${exit?.code ?? exit?.signal}): ${tail(stderr) || 'no message'}`);
  else if (!connects && exit?.code !== 0) notes.push(`exit ${exit?.code ?? exit?.signal}: ${tail(stderr) || 'no message'}`);
  const ms = (at: number | undefined): number | undefined => (at === undefined ? undefined : round(at - t0, 2));
  const ok = connects ? acceptedAt !== undefined && roundTripAt !== undefined : exit?.code === 0;
  return {
    ok,
    ...(acceptedAt !== undefined ? { acceptMs: ms(acceptedAt) } : {}),
    ...(roundTripAt !== undefined ? { roundTripMs: ms(roundTripAt) } : {}),
    ...(exit ? { exitMs: ms(exit.at) } : {}),
    ...(peakRssKiB !== undefined ? { peakRssKiB } : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

interface StartupRow {
  id: string;
  label: string;
  kind: Candidate['kind'];
  via: Candidate['via'];
  version?: string;
  skipped?: string;
  samples: StartupSample[];
  acceptMs: Stats;
  roundTripMs: Stats;
  exitMs: Stats;
  peakRssKiB: Stats;
}

async function benchStartup(candidates: Candidate[], target: EchoTarget, progress: (s: string) => void): Promise<StartupRow[]> {
  const rows = candidates.map<StartupRow>((c) => ({
    id: c.id,
    label: c.label,
    kind: c.kind,
    via: c.via,
    ...(c.version ? { version: c.version } : {}),
    ...(c.skip ? { skipped: c.skip } : {}),
    samples: [],
    acceptMs: { n: 0 },
    roundTripMs: { n: 0 },
    exitMs: { n: 0 },
    peakRssKiB: { n: 0 },
  }));
  const active = candidates.map((c, i) => ({ c, row: rows[i]! })).filter(({ c }) => c.argv && !c.skip);
  for (let r = 0; r < STARTUP_WARMUPS + settings.startupRuns; r++) {
    progress(`start-up round ${r + 1}/${STARTUP_WARMUPS + settings.startupRuns}${r < STARTUP_WARMUPS ? ' (warm-up)' : ''}`);
    for (const { c, row } of active) {
      if (row.skipped) continue;
      const sample = await startupRun(c, target);
      if (r < STARTUP_WARMUPS) {
        if (!sample.ok) row.skipped = `failed its warm-up run: ${sample.note ?? 'unknown'}`;
        continue;
      }
      row.samples.push(sample);
      await sleep(20); // let the previous tunnel's teardown (squid, the target) finish before the next spawn
    }
  }
  for (const row of rows) {
    const good = row.samples.filter((s) => s.ok);
    row.acceptMs = stats(good.map((s) => s.acceptMs));
    row.roundTripMs = stats(good.map((s) => s.roundTripMs));
    row.exitMs = stats(good.map((s) => s.exitMs));
    row.peakRssKiB = stats(good.map((s) => s.peakRssKiB), 0);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Report




interface Ratios {
  throughput?: {
    burrowMbps?: number;
    bestAnchor?: { id: string; mbps?: number };
    ratio?: number;
    steadyRatio?: number;
    /** burrow's CPU seconds per GB ÷ the best anchor's (below 1: burrow spends less CPU per byte). */
    cpuRatio?: number;
    target: number;
    met?: boolean;
  };
  startup?: {
    burrowAcceptMs?: number;
    burrowRoundTripMs?: number;
    nodeExitMs?: number;
    corkscrewAcceptMs?: number;
    corkscrewRoundTripMs?: number;
    burrowOverNode?: number;
    burrowRoundTripOverNode?: number;
    burrowOverCorkscrew?: number;
    burrowRoundTripOverCorkscrew?: number;
    /** The single executable's connect against bin/burrow's (issue 14: at most 1.1). */
    exe?: { acceptMs?: number; roundTripMs?: number; overBurrow?: number; roundTripOverBurrow?: number; target: number; met?: boolean };
    /** The minimal Node CONNECT client (bench/node-connect.cjs): the floor any Node ProxyCommand has (target ≤ 1.15). */
    nodeClientAcceptMs?: number;
    burrowOverNodeClient?: number;
    /** Both with the caller's NODE_EXTRA_CA_CERTS, when it has one. */
    withExtraCaCerts?: { burrowAcceptMs?: number; nodeExitMs?: number; burrowOverNode?: number };
    target: number;
    met?: boolean;
  };
}

function computeRatios(throughput: ThroughputRow[] | undefined, startup: StartupRow[] | undefined): Ratios {
  const out: Ratios = {};
  if (throughput) {
    const burrow = throughput.find((r) => r.id === 'burrow');
    const anchors = throughput.filter((r) => r.kind === 'anchor' && r.mbps.median !== undefined);
    const best = anchors.sort((a, b) => b.mbps.median! - a.mbps.median!)[0];
    const r = ratio(burrow?.mbps.median, best?.mbps.median);
    out.throughput = {
      burrowMbps: burrow?.mbps.median,
      ...(best ? { bestAnchor: { id: best.id, mbps: best.mbps.median } } : {}),
      ratio: r,
      steadyRatio: ratio(burrow?.steadyMbps.median, best?.steadyMbps.median),
      cpuRatio: ratio(burrow?.cpuSecondsPerGB.median, best?.cpuSecondsPerGB.median),
      target: 1.0,
      ...(r !== undefined ? { met: r >= 1.0 } : {}),
    };
  }
  if (startup) {
    const get = (id: string) => startup.find((r) => r.id === id);
    const burrow = get('burrow');
    const node = get('node');
    const cork = get('corkscrew');
    const overNode = ratio(burrow?.acceptMs.median, node?.exitMs.median);
    const exe = get('burrow-exe');
    const exeOver = ratio(exe?.acceptMs.median, burrow?.acceptMs.median);
    const burrowCa = get('burrow-extra-ca');
    const nodeCa = get('node-extra-ca');
    out.startup = {
      burrowAcceptMs: burrow?.acceptMs.median,
      burrowRoundTripMs: burrow?.roundTripMs.median,
      nodeExitMs: node?.exitMs.median,
      corkscrewAcceptMs: cork?.acceptMs.median,
      corkscrewRoundTripMs: cork?.roundTripMs.median,
      burrowOverNode: overNode,
      burrowRoundTripOverNode: ratio(burrow?.roundTripMs.median, node?.exitMs.median),
      burrowOverCorkscrew: ratio(burrow?.acceptMs.median, cork?.acceptMs.median),
      burrowRoundTripOverCorkscrew: ratio(burrow?.roundTripMs.median, cork?.roundTripMs.median),
      ...(exe && exe.acceptMs.median !== undefined
        ? {
            exe: {
              acceptMs: exe.acceptMs.median,
              roundTripMs: exe.roundTripMs.median,
              overBurrow: exeOver,
              roundTripOverBurrow: ratio(exe.roundTripMs.median, burrow?.roundTripMs.median),
              target: 1.1,
              ...(exeOver !== undefined ? { met: exeOver <= 1.1 } : {}),
            },
          }
        : {}),
      nodeClientAcceptMs: get('node-connect')?.acceptMs.median,
      burrowOverNodeClient: ratio(burrow?.acceptMs.median, get('node-connect')?.acceptMs.median),
      ...(burrowCa && nodeCa
        ? { withExtraCaCerts: { burrowAcceptMs: burrowCa.acceptMs.median, nodeExitMs: nodeCa.exitMs.median, burrowOverNode: ratio(burrowCa.acceptMs.median, nodeCa.exitMs.median) } }
        : {}),
      target: 1.2,
      ...(overNode !== undefined ? { met: overNode <= 1.2 } : {}),
    };
  }
  return out;
}

function printThroughput(rows: ThroughputRow[], generator: string): void {
  const gb = settings.bytes / 1e9;
  console.log(`\nThroughput: ${fmt(gb, 2)} GB (${settings.bytes} bytes) from ${generator} to a counting sink, median of ${settings.runs}`);
  console.log('MB/s = 10^6 bytes/s from spawn until the sink has every byte; "steady" leaves out the time to the first byte.');
  console.log(`${pad('client', 36)} ${pad('via', 6)} ${pad('MB/s', 7, true)} ${pad('min–max', 13, true)} ${pad('steady', 7, true)} ${pad('exit s', 7, true)} ${pad('CPU s/GB', 9, true)}`);
  for (const row of rows) {
    if (row.skipped && row.samples.length === 0) {
      console.log(`${pad(row.label, 36)} ${pad(row.via, 6)} skipped: ${row.skipped}`);
      continue;
    }
    const exits = stats(row.samples.filter((s) => s.ok).map((s) => s.exitSeconds), 2);
    const range = row.mbps.min !== undefined ? `${fmt(row.mbps.min, 0)}–${fmt(row.mbps.max, 0)}` : '—';
    console.log(
      `${pad(row.label, 36)} ${pad(row.via, 6)} ${pad(fmt(row.mbps.median), 7, true)} ${pad(range, 13, true)} ${pad(fmt(row.steadyMbps.median), 7, true)} ${pad(fmt(exits.median, 2), 7, true)} ${pad(fmt(row.cpuSecondsPerGB.median, 2), 9, true)}`,
    );
    for (const s of row.samples) if (s.note) console.log(`${' '.repeat(4)}note: ${s.note}`);
  }
  const sinkCpu = median(rows.flatMap((r) => r.samples.filter((s) => s.ok && s.sinkCpu !== undefined).map((s) => s.sinkCpu! / (s.bytes / 1e9))));
  console.log(`(the sink itself used ${fmt(sinkCpu, 2)} CPU s/GB; the first row is the same sink fed by nc without any proxy: its ceiling here)`);
}

function printStartup(rows: StartupRow[]): void {
  console.log(`\nStart-up: median of ${settings.startupRuns} (after ${STARTUP_WARMUPS} warm-up rounds), milliseconds from spawn`);
  console.log(`${pad('client', 36)} ${pad('via', 6)} ${pad('accept', 8, true)} ${pad('min', 7, true)} ${pad('round trip', 11, true)} ${pad('exit', 8, true)}`);
  for (const row of rows) {
    if (row.skipped && row.samples.length === 0) {
      console.log(`${pad(row.label, 36)} ${pad(row.via, 6)} skipped: ${row.skipped}`);
      continue;
    }
    const connects = row.via !== 'none';
    console.log(
      `${pad(row.label, 36)} ${pad(row.via, 6)} ${pad(connects ? fmt(row.acceptMs.median) : '', 8, true)} ${pad(fmt(connects ? row.acceptMs.min : row.exitMs.min), 7, true)} ${pad(connects ? fmt(row.roundTripMs.median) : '', 11, true)} ${pad(fmt(row.exitMs.median), 8, true)}`,
    );
    const failed = row.samples.filter((s) => !s.ok);
    if (failed.length) console.log(`${' '.repeat(4)}${failed.length} failed run(s): ${failed[0]!.note ?? ''}`);
  }
  console.log('accept: the target accepted the tunnel (through squid); round trip: a byte written to stdin at spawn came back on stdout;');
  console.log('exit: for connecting clients, includes closing the tunnel after the echo.');
}

function printRatios(r: Ratios): void {
  console.log('\nAgainst the targets (issue 2, item 8):');
  if (r.throughput) {
    const t = r.throughput;
    const verdict = t.met === undefined ? 'n/a' : t.met ? 'met' : 'NOT met';
    console.log(
      `  throughput  burrow ${fmt(t.burrowMbps)} MB/s ÷ best anchor ${t.bestAnchor ? `${t.bestAnchor.id} ${fmt(t.bestAnchor.mbps)} MB/s` : '(none)'} = ${fmt(t.ratio, 2)}  (steady ${fmt(t.steadyRatio, 2)})   target ≥ ${t.target.toFixed(1)}: ${verdict}`,
    );
    console.log(`              CPU per GB, burrow ÷ ${t.bestAnchor?.id ?? 'best anchor'} = ${fmt(t.cpuRatio, 2)} (below 1: less CPU per byte; the steadier measure on a loaded machine)`);
  }
  if (r.startup) {
    const s = r.startup;
    const verdict = s.met === undefined ? 'n/a' : s.met ? 'met' : 'NOT met';
    console.log(`  start-up    burrow accept ${fmt(s.burrowAcceptMs)} ms ÷ node -e 0 ${fmt(s.nodeExitMs)} ms = ${fmt(s.burrowOverNode, 2)}   target ≤ ${s.target.toFixed(1)}: ${verdict}`);
    console.log(`              burrow round trip ${fmt(s.burrowRoundTripMs)} ms ÷ node -e 0 = ${fmt(s.burrowRoundTripOverNode, 2)}`);
    console.log(`              burrow ÷ corkscrew: accept ${fmt(s.burrowOverCorkscrew, 1)}× (${fmt(s.burrowAcceptMs)} vs ${fmt(s.corkscrewAcceptMs)} ms), round trip ${fmt(s.burrowRoundTripOverCorkscrew, 1)}×`);
    if (s.exe) {
      const e = s.exe;
      const verdict = e.met === undefined ? 'n/a' : e.met ? 'met' : 'NOT met';
      console.log(`  executable  accept ${fmt(e.acceptMs)} ms ÷ bin/burrow ${fmt(s.burrowAcceptMs)} ms = ${fmt(e.overBurrow, 2)}, round trip ${fmt(e.roundTripOverBurrow, 2)}   target ≤ ${e.target.toFixed(1)} (issue 14): ${verdict}`);
    }
    console.log(`              burrow ÷ minimal Node CONNECT client: accept ${fmt(s.burrowOverNodeClient, 2)} (${fmt(s.burrowAcceptMs)} vs ${fmt(s.nodeClientAcceptMs)} ms)   target ≤ 1.15 (issue 11): ${s.burrowOverNodeClient === undefined ? 'n/a' : s.burrowOverNodeClient <= 1.15 ? 'met' : 'NOT met'}`);
    if (s.withExtraCaCerts) {
      const w = s.withExtraCaCerts;
      console.log(`              with NODE_EXTRA_CA_CERTS (both): burrow ${fmt(w.burrowAcceptMs)} ms ÷ node -e 0 ${fmt(w.nodeExitMs)} ms = ${fmt(w.burrowOverNode, 2)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const started = performance.now();
  // On a terminal one line that keeps changing; in a log only the lines that carry a result.
  const progress = (s: string): void => {
    const line = `[${((performance.now() - started) / 1000).toFixed(0)} s] ${s}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else if (/: |starting/.test(s)) process.stderr.write(`${line}\n`);
  };
  const why = whyCannotRun('squid');
  if (why) {
    console.error(`bench: cannot run: ${why}. The benchmark measures every client through a real local squid.`);
    return 1;
  }
  const node = findBinary('node') ?? process.execPath;
  progress('starting squid');
  let squid: SquidPeer | undefined;
  let sshd: SshdPeer | undefined;
  let sink: Sink | undefined;
  let target: EchoTarget | undefined;
  const cleanup = async (): Promise<void> => {
    for (const pid of children) killGroup(pid);
    sink?.close();
    target?.close();
    await squid?.stop();
    await sshd?.stop();
  };
  process.once('SIGINT', () => {
    process.stderr.write('\nbench: interrupted, stopping squid\n');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    // The PAC rows connect to names (a PAC is not asked about loopback targets): squid resolves them itself.
    squid = await startSquid({ hosts: pacHosts(STARTUP_WARMUPS + settings.startupRuns) });
    sink = await startSink();
    target = await startEchoTarget();
    const extraCaCerts = !settings.keepNodeEnv ? process.env.NODE_EXTRA_CA_CERTS : undefined;
    const setup: Setup = { squidPort: squid.port, burrow: settings.burrow, node, ...(existsSync(settings.exe) ? { exe: settings.exe } : {}), ...(extraCaCerts ? { extraCaCerts } : {}) };
    const pick = (cs: Candidate[]): Candidate[] => (settings.tools ? cs.filter((c) => settings.tools!.has(c.id)) : cs);

    const generator = generatorCommand(settings.bytes);
    const startup = settings.parts.has('startup') ? await benchStartup(pick(startupCandidates(setup)), target, progress) : undefined;
    let pac: { rows: StartupRow[]; ratios: PacRatios } | undefined;
    if (settings.parts.has('pac')) {
      const rows = await benchStartup(pacCandidates(setup), target, progress);
      pac = { rows, ratios: pacRatios(rows) };
    }
    const throughput = settings.parts.has('throughput') ? await benchThroughput(pick(throughputCandidates(setup)), sink, progress) : undefined;
    let ssh: { rows: SshRow[]; ratios: SshRatios } | undefined;
    if (settings.parts.has('ssh')) {
      const why = whyCannotRun('sshd', 'ssh');
      if (why) console.error(`bench: ssh part skipped: ${why}`);
      else {
        try {
          sshd = await startSshd();
        } catch (error) {
          console.error(`bench: ssh part skipped: cannot start sshd (${(error as Error).message.split('\n')[0]})`);
        }
        if (sshd) {
          const rows = await benchSsh(settings.burrow, squid, sshd, clientEnv(), progress);
          ssh = { rows, ratios: sshRatios(rows) };
        }
      }
    }
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const ratios = computeRatios(throughput, startup);

    const cpus = os.cpus();
    const machine = {
      cpu: cpus[0]?.model,
      cores: cpus.length,
      memoryGB: round(os.totalmem() / 2 ** 30, 1),
      kernel: `${os.type()} ${os.release()}`,
      node: nodeVersion(node),
      nodePath: node,
      squid: squidVersion(),
    };
    console.log(`burrow bench — ${new Date().toISOString()} — ${machine.cpu ?? 'unknown CPU'}, ${machine.cores} cores, node ${machine.node}, ${machine.squid ?? 'squid'} on 127.0.0.1:${squid.port}`);
    if (settings.burrow !== resolve(`${ROOT}/bin/burrow`)) console.log(`burrow under test: ${settings.burrow} (BENCH_BURROW)`);
    console.log(
      settings.keepNodeEnv
        ? 'clients keep NODE_OPTIONS / NODE_EXTRA_CA_CERTS from this environment (BENCH_KEEP_NODE_ENV=1)'
        : `clients run without NODE_OPTIONS and NODE_EXTRA_CA_CERTS${extraCaCerts ? ` (this environment sets NODE_EXTRA_CA_CERTS=${extraCaCerts}: see its row)` : ''}`,
    );
    if (startup) printStartup(startup);
    if (throughput) printThroughput(throughput, generator.description);
    printRatios(ratios);
    if (pac) printPac(pac.rows, pac.ratios);
    if (ssh) printSsh(ssh.rows, ssh.ratios);

    const results = {
      schema: 1,
      date: new Date().toISOString(),
      durationSeconds: round((performance.now() - started) / 1000, 1),
      machine,
      settings: {
        bytes: settings.bytes,
        runs: settings.runs,
        startupRuns: settings.startupRuns,
        startupWarmups: STARTUP_WARMUPS,
        warmupBytes: WARMUP_BYTES,
        generator: generator.description,
        burrow: settings.burrow,
        keepNodeEnv: settings.keepNodeEnv,
        ...(extraCaCerts ? { callerNodeExtraCaCerts: extraCaCerts } : {}),
        units: 'MB/s = 10^6 bytes per second; times in ms from spawn (start-up) or s (throughput)',
      },
      ratios,
      ...(startup ? { startup } : {}),
      ...(throughput ? { throughput } : {}),
      ...(pac ? { pac } : {}),
      ...(ssh ? { ssh: { settings: sshSettings, ratios: ssh.ratios, rows: ssh.rows } } : {}),
    };
    mkdirSync(dirname(settings.out), { recursive: true });
    writeFileSync(settings.out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nresults: ${settings.out} (${round((performance.now() - started) / 1000, 0)} s)`);
    return 0;
  } finally {
    await cleanup();
  }
}

runBench('bench', main);
