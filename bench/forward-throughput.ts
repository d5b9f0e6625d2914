// bench:forward (2): throughput, parallel streams written by a worker thread to the counting sink.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { LOOPBACK } from '../peers/net.ts';
import type { SquidPeer } from '../peers/squid.ts';
import { settings, throughputTimeoutMs } from './forward-settings.ts';
import type { Forwarder } from './forwarder.ts';
import { machineBusySeconds, treeCpu } from './proc.ts';
import type { Sink } from './servers.ts';
import { round, sleep } from './util.ts';

// The writer: a worker thread (its own event loop, so the sink on the main thread is not slowed by it) writing
// `bytes` per stream from one zero-filled buffer with backpressure, then holding the streams open until told to close.
export const WRITER_SOURCE = `
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

export interface ThroughputSample {
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

export async function throughputRun(f: Forwarder, sink: Sink, squid: SquidPeer, streamBytes: number): Promise<ThroughputSample> {
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
