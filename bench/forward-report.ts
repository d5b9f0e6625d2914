// bench:forward's rows, the printed tables and the verdicts against the targets of issue 3.
import os from 'node:os';
import type { MemorySample } from './forward-memory.ts';
import type { RateRow } from './forward-rate.ts';
import { PAYLOAD, settings, TARGET_KIB_PER_TUNNEL, WARMUP_CONNS } from './forward-settings.ts';
import type { ThroughputSample } from './forward-throughput.ts';
import type { ForwardCandidate } from './tools.ts';
import { fmt, pad, ratio } from './util.ts';

export interface Row {
  id: string;
  label: string;
  kind: ForwardCandidate['kind'];
  version?: string;
  command?: string;
  note?: string;
  skipped?: string;
  rate?: RateRow;
  // The median sample's figures, with the spread of the samples' rates.
  throughput?: { samples: ThroughputSample[]; min?: number; max?: number } & Pick<
    ThroughputSample,
    'mbps' | 'steadyMbps' | 'forwarderCpuSecondsPerGB' | 'squidCpuSecondsPerGB' | 'benchCpuSecondsPerGB' | 'busyCores' | 'otherCores'
  >;
  memory?: MemorySample;
  errors: string[];
}

export function rangeOf(r: Row, concurrency: number): string {
  const all = (concurrency === 1 ? r.rate?.runs.sequential : r.rate?.runs.concurrent) ?? [];
  const v = all.map((s) => s.perSecond).filter((x): x is number => x !== undefined);
  return v.length ? `${Math.min(...v)}–${Math.max(...v)}` : '—';
}

export function printReport(rows: Row[]): void {
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

export interface Verdict {
  burrow?: number;
  socat?: number;
  socatRow?: string;
  ratio?: number;
  target: string;
  met?: boolean;
}

/** socat's figure for a measure: the better of the two socat rows (the command from the issue, and with a backlog). */
export function bestSocat(rows: Row[], value: (r: Row) => number | undefined): { id?: string; value?: number } {
  const candidates = rows.filter((r) => r.id.startsWith('socat') && !r.skipped && value(r) !== undefined);
  const best = candidates.sort((a, b) => value(b)! - value(a)!)[0];
  return best ? { id: best.id, value: value(best) } : {};
}

export function verdicts(rows: Row[]): Record<string, Verdict> {
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

export function printVerdicts(v: Record<string, Verdict>, rows: Row[]): void {
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
