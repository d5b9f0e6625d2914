// ssh sessions through squid with each ProxyCommand (issue #11): burrow relaying (`connect`), burrow handing the
// socket to ssh (`connect --fdpass` + ProxyUseFdpass), corkscrew, and OpenBSD netcat's fd passing (`nc -F`).
//   - download: `ssh HOST 'head -c N /dev/zero' > /dev/null`; upload: `head -c N /dev/zero | ssh HOST 'cat > /dev/null'`;
//     wall time from spawn to exit, median of BENCH_SSH_RUNS (3), MB/s = 10^6 bytes/s.
//   - memory: BENCH_SSH_SESSIONS (4) idle sessions open at once; the PSS of every process the sessions' ProxyCommands
//     left alive (ssh itself not counted), divided by the number of sessions. fd passing leaves none.
import { spawn } from 'node:child_process';
import type { SquidPeer } from '../peers/squid.ts';
import type { SshdPeer } from '../peers/sshd.ts';
import { sshBaseOptions } from '../peers/ssh-client.ts';
import { shellQuote } from '../peers/shell.ts';
import { findBinary } from '../peers/binaries.ts';
import { processTree, pssKiB } from './proc.ts';
import { fmt, median, pad, parseBytes, parseCount, ratio, round } from './util.ts';

export const sshSettings = {
  bytes: parseBytes(process.env.BENCH_SSH_BYTES, 1e9, 'BENCH_SSH_BYTES'),
  runs: parseCount(process.env.BENCH_SSH_RUNS, 3, 'BENCH_SSH_RUNS'),
  sessions: parseCount(process.env.BENCH_SSH_SESSIONS, 4, 'BENCH_SSH_SESSIONS'),
};

interface SshCandidate {
  id: string;
  label: string;
  proxyCommand?: string;
  fdpass: boolean;
  skip?: string;
}

export interface SshRow {
  id: string;
  label: string;
  skipped?: string;
  downloadMBps?: number;
  uploadMBps?: number;
  downloadSeconds: number[];
  uploadSeconds: number[];
  /** PSS per open idle session of the processes its ProxyCommand left alive, and how many there were per session. */
  pssKiBPerSession?: number;
  processesPerSession?: number;
}

function candidates(burrow: string, squid: SquidPeer): SshCandidate[] {
  const proxy = `http://127.0.0.1:${squid.port}`;
  const corkscrew = findBinary('corkscrew');
  const nc = findBinary('nc');
  return [
    { id: 'burrow', label: 'burrow connect (relay)', proxyCommand: `${shellQuote(burrow)} connect -x ${proxy} %h %p`, fdpass: false },
    { id: 'burrow-fdpass', label: 'burrow connect --fdpass', proxyCommand: `${shellQuote(burrow)} connect --fdpass -x ${proxy} %h %p`, fdpass: true },
    corkscrew
      ? { id: 'corkscrew', label: 'corkscrew', proxyCommand: `${corkscrew} 127.0.0.1 ${squid.port} %h %p`, fdpass: false }
      : { id: 'corkscrew', label: 'corkscrew', fdpass: false, skip: 'corkscrew is not installed' },
    nc
      ? { id: 'nc-fdpass', label: 'nc -F -X connect (fd passing)', proxyCommand: `${nc} -F -X connect -x 127.0.0.1:${squid.port} %h %p`, fdpass: true }
      : { id: 'nc-fdpass', label: 'nc -F -X connect (fd passing)', fdpass: false, skip: 'nc (netcat-openbsd) is not installed' },
  ];
}

function sshArgs(sshd: SshdPeer, candidate: SshCandidate, command: string): string[] {
  return [...sshBaseOptions(sshd, candidate.proxyCommand), ...(candidate.fdpass ? ['-o', 'ProxyUseFdpass=yes'] : []), '-p', String(sshd.port), `${sshd.user}@127.0.0.1`, command];
}

/** Runs `sh -c script`, resolving with the seconds from spawn to exit, or undefined when it failed. */
function timed(script: string, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      if (code !== 0) process.stderr.write(`\nbench ssh: exit ${code}: ${stderr.trim().slice(0, 300)}\n`);
      resolve(code === 0 ? Number(process.hrtime.bigint() - started) / 1e9 : undefined);
    });
  });
}

async function idleMemory(sshd: SshdPeer, candidate: SshCandidate, env: NodeJS.ProcessEnv): Promise<{ pss: number; processes: number }> {
  const sessions = Array.from({ length: sshSettings.sessions }, () => spawn('ssh', sshArgs(sshd, candidate, 'echo open; exec sleep 600'), { env, stdio: ['ignore', 'pipe', 'ignore'] }));
  try {
    await Promise.all(
      sessions.map(
        (ssh) =>
          new Promise<void>((resolve, reject) => {
            ssh.stdout.once('data', () => resolve());
            ssh.once('close', (code) => reject(new Error(`an ssh session ended before it was open (exit ${code})`)));
          }),
      ),
    );
    // Let each relay settle into idle (its first garbage collection, buffers returned).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    let pss = 0;
    let processes = 0;
    for (const ssh of sessions) {
      for (const pid of processTree(ssh.pid!).keys()) {
        if (pid === ssh.pid) continue;
        pss += pssKiB(pid);
        processes++;
      }
    }
    return { pss: pss / sessions.length, processes: processes / sessions.length };
  } finally {
    for (const ssh of sessions) ssh.kill('SIGTERM');
  }
}

export async function benchSsh(burrow: string, squid: SquidPeer, sshd: SshdPeer, env: NodeJS.ProcessEnv, progress: (s: string) => void): Promise<SshRow[]> {
  const rows: SshRow[] = [];
  const all = candidates(burrow, squid);
  const usable = all.filter((c) => !c.skip);
  const results = new Map<string, { down: number[]; up: number[] }>(usable.map((c) => [c.id, { down: [], up: [] }]));
  const quote = (args: string[]): string => args.map(shellQuote).join(' ');
  // Interleaved, so that a slow patch of the machine falls on every candidate alike.
  for (let run = 0; run < sshSettings.runs; run++) {
    for (const candidate of usable) {
      progress(`ssh ${candidate.id} run ${run + 1}/${sshSettings.runs}: download`);
      const down = await timed(`exec ssh ${quote(sshArgs(sshd, candidate, `head -c ${sshSettings.bytes} /dev/zero`))} > /dev/null`, env);
      progress(`ssh ${candidate.id} run ${run + 1}/${sshSettings.runs}: upload`);
      const up = await timed(`head -c ${sshSettings.bytes} /dev/zero | ssh ${quote(sshArgs(sshd, candidate, 'cat > /dev/null'))}`, env);
      if (down !== undefined) results.get(candidate.id)!.down.push(down);
      if (up !== undefined) results.get(candidate.id)!.up.push(up);
    }
  }
  for (const candidate of all) {
    if (candidate.skip) {
      rows.push({ id: candidate.id, label: candidate.label, skipped: candidate.skip, downloadSeconds: [], uploadSeconds: [] });
      continue;
    }
    progress(`ssh ${candidate.id}: memory of ${sshSettings.sessions} idle sessions`);
    const memory = await idleMemory(sshd, candidate, env).catch((error: Error) => {
      process.stderr.write(`\nbench ssh: ${candidate.id}: ${error.message}\n`);
      return undefined;
    });
    const { down, up } = results.get(candidate.id)!;
    const mbps = (seconds: number | undefined) => (seconds ? round(sshSettings.bytes / 1e6 / seconds, 0) : undefined);
    rows.push({
      id: candidate.id,
      label: candidate.label,
      downloadSeconds: down.map((s) => round(s, 2)!),
      uploadSeconds: up.map((s) => round(s, 2)!),
      downloadMBps: mbps(median(down)),
      uploadMBps: mbps(median(up)),
      ...(memory ? { pssKiBPerSession: round(memory.pss, 0), processesPerSession: round(memory.processes, 2) } : {}),
    });
  }
  return rows;
}

export interface SshRatios {
  fdpassOverNc: { download?: number; upload?: number; target: number };
  relayOverCorkscrew: { download?: number; upload?: number; target: number };
  relayPssMiB?: number;
  relayPssTargetMiB: number;
  fdpassProcesses?: number;
}

export function sshRatios(rows: SshRow[]): SshRatios {
  const get = (id: string) => rows.find((r) => r.id === id);
  const [burrow, fdpass, cork, nc] = [get('burrow'), get('burrow-fdpass'), get('corkscrew'), get('nc-fdpass')];
  return {
    fdpassOverNc: { download: ratio(fdpass?.downloadMBps, nc?.downloadMBps), upload: ratio(fdpass?.uploadMBps, nc?.uploadMBps), target: 0.95 },
    relayOverCorkscrew: { download: ratio(burrow?.downloadMBps, cork?.downloadMBps), upload: ratio(burrow?.uploadMBps, cork?.uploadMBps), target: 1.0 },
    ...(burrow?.pssKiBPerSession !== undefined ? { relayPssMiB: round(burrow.pssKiBPerSession / 1024, 1) } : {}),
    relayPssTargetMiB: 10,
    ...(fdpass?.processesPerSession !== undefined ? { fdpassProcesses: fdpass.processesPerSession } : {}),
  };
}

export function printSsh(rows: SshRow[], ratios: SshRatios): void {
  console.log(`\nssh through squid: ${fmt(sshSettings.bytes / 1e9, 2)} GB each way, median of ${sshSettings.runs}; memory: PSS per idle session, ${sshSettings.sessions} open at once`);
  console.log(`${pad('ProxyCommand', 32)} ${pad('down MB/s', 10, true)} ${pad('up MB/s', 9, true)} ${pad('PSS MiB', 8, true)} ${pad('procs', 6, true)}`);
  for (const row of rows) {
    if (row.skipped) {
      console.log(`${pad(row.label, 32)} skipped: ${row.skipped}`);
      continue;
    }
    const pss = row.pssKiBPerSession !== undefined ? fmt(row.pssKiBPerSession / 1024, 1) : '—';
    console.log(`${pad(row.label, 32)} ${pad(fmt(row.downloadMBps, 0), 10, true)} ${pad(fmt(row.uploadMBps, 0), 9, true)} ${pad(pss, 8, true)} ${pad(fmt(row.processesPerSession, 2), 6, true)}`);
  }
  const r = ratios;
  console.log(`--fdpass / nc -F: download ${fmt(r.fdpassOverNc.download, 2)}×, upload ${fmt(r.fdpassOverNc.upload, 2)}× (target ≥ ${r.fdpassOverNc.target})`);
  console.log(`relay / corkscrew: download ${fmt(r.relayOverCorkscrew.download, 2)}×, upload ${fmt(r.relayOverCorkscrew.upload, 2)}× (target ≥ ${r.relayOverCorkscrew.target})`);
  console.log(`relay PSS per idle session: ${fmt(r.relayPssMiB, 1)} MiB (target ≤ ${r.relayPssTargetMiB}); burrow processes per --fdpass session: ${fmt(r.fdpassProcesses, 2)} (target 0)`);
}
