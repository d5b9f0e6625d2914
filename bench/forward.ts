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
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findBinary, whyCannotRun } from '../peers/binaries.ts';
import { startSquid, type SquidPeer } from '../peers/squid.ts';
import { pool, shortTunnel } from './forward-clients.ts';
import { memoryRun } from './forward-memory.ts';
import { medianRun, rateRun } from './forward-rate.ts';
import { printReport, printVerdicts, verdicts, type Row } from './forward-report.ts';
import { PAYLOAD, ROOT, settings, WARMUP_CONNS } from './forward-settings.ts';
import { throughputRun } from './forward-throughput.ts';
import { started, startForwarder, type Forwarder } from './forwarder.ts';
import { openFilesLimit } from './proc.ts';
import { startEchoTarget, startSink, type EchoTarget, type Sink } from './servers.ts';
import { forwardCandidates, nodeVersion, squidVersion, type Setup } from './tools.ts';
import { median, round, runBench, sleep } from './util.ts';

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
