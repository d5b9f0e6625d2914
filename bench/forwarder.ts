// A forwarder under test (burrow forward, socat, proxytunnel) started afresh, found by who listens on its port, and
// stopped with its whole process tree.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { cleanEnv } from '../peers/env.ts';
import { freePort } from '../peers/net.ts';
import { listenerPids, processTree, readStat } from './proc.ts';
import type { ForwardCandidate } from './tools.ts';
import { sleep } from './util.ts';

export interface Forwarder {
  port: number;
  /** The process that accepts (for proxytunnel: the daemon, not the process spawned); its tree is what is measured. */
  root: number;
  stop(): Promise<void>;
}

export const started = new Set<Forwarder>();

export async function startForwarder(c: ForwardCandidate, targetPort: number): Promise<Forwarder> {
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
