// bench:forward (3): memory per idle tunnel, from the forwarder's process tree with and without them.
import type net from 'node:net';
import { idleTunnel, pool, shortTunnel } from './forward-clients.ts';
import { IDLE_OPEN_CONCURRENCY, SETTLE_MS } from './forward-settings.ts';
import type { Forwarder } from './forwarder.ts';
import { treeMemory, type TreeMemory } from './proc.ts';
import { round, sleep } from './util.ts';

export interface MemorySample {
  tunnels: number;
  before: TreeMemory;
  open: TreeMemory;
  /** After the clients closed them (does the memory come back?). */
  after?: TreeMemory;
  rssKiBPerTunnel?: number;
  pssKiBPerTunnel?: number;
  note?: string;
}

export async function memoryRun(f: Forwarder, tunnels: number): Promise<MemorySample> {
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
