// npm run soak [-- SECONDS]: `burrow forward` with -L, -D and --http under mixed clients for a set time (default 60 s),
// direct to a local echo target: short tunnels (open, echo, close), idle tunnels held open, slow clients (a byte at a
// time), malformed clients (garbage to each listener) and clients that vanish mid-handshake. Every few seconds it
// prints burrow's RSS, open file descriptors, connections served and failures; at the end, after every client is
// gone, it fails (exit 1) when file descriptors did not come back to the warm baseline or RSS kept growing (the
// second half's peak above the first half's by more than 25 %), or when a well-behaved client failed.
// Not in CI: it runs for minutes and measures, it does not assert behaviour (the test suites do).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from '../peers/env.ts';
import { statusKiB } from './proc.ts';
import { startEchoTarget } from './servers.ts';
import { fmt, pad, parseCount, runBench, sleep } from './util.ts';

const BURROW = fileURLToPath(new URL('../bin/burrow', import.meta.url));
const LOOPBACK = '127.0.0.1';

interface Counters {
  served: number;
  failed: number;
  failures: Map<string, number>;
}

const fdCount = (pid: number): number => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
};

function fail(counters: Counters, why: string): void {
  counters.failed += 1;
  counters.failures.set(why, (counters.failures.get(why) ?? 0) + 1);
}

/** Connects, runs `talk`, and always closes; resolves true when `talk` said the exchange went right. */
function client(port: number, talk: (socket: net.Socket, done: (ok: boolean) => void) => void, timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.once('connect', () => talk(socket, done));
  });
}

/** Writes `text` and waits for the same bytes back. */
function echo(socket: net.Socket, text: Buffer, done: (ok: boolean) => void): void {
  let got = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    got = Buffer.concat([got, chunk]);
    if (got.length >= text.length) done(got.subarray(0, text.length).equals(text));
  });
  socket.write(text);
}

/** One SOCKS5 CONNECT (no auth) to the echo target, then an echo. */
function socks5(socket: net.Socket, targetPort: number, done: (ok: boolean) => void): void {
  let stage = 0;
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (stage === 0 && buffer.length >= 2) {
      buffer = buffer.subarray(2);
      stage = 1;
      const request = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, targetPort >> 8, targetPort & 0xff]);
      socket.write(request);
    }
    if (stage === 1 && buffer.length >= 10) {
      if (buffer[1] !== 0) return done(false);
      stage = 2;
      socket.removeAllListeners('data');
      echo(socket, Buffer.from('socks soak\n'), done);
    }
  });
  socket.write(Buffer.from([5, 1, 0]));
}

/** One HTTP CONNECT to the echo target, then an echo. */
function httpConnect(socket: net.Socket, targetPort: number, done: (ok: boolean) => void): void {
  let head = '';
  const onData = (chunk: Buffer) => {
    head += chunk.toString('latin1');
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    socket.off('data', onData);
    if (!/^HTTP\/1\.[01] 200/.test(head)) return done(false);
    echo(socket, Buffer.from('http soak\n'), done);
  };
  socket.on('data', onData);
  socket.write(`CONNECT ${LOOPBACK}:${targetPort} HTTP/1.1\r\nHost: ${LOOPBACK}:${targetPort}\r\n\r\n`);
}

async function main(): Promise<number> {
  const seconds = parseCount(process.argv[2], 60, 'SECONDS');
  const target = await startEchoTarget();
  const child = spawn(BURROW, ['forward', '--print-port', '--direct', '-L', `0:${LOOPBACK}:${target.port}`, '-D', '0', '--http', '0'], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid!;
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const found = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
      if (found.length >= 3) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`burrow forward exited (${code}) before listening`)));
  });
  const [local, socks, http] = ports as [number, number, number];
  const counters: Counters = { served: 0, failed: 0, failures: new Map() };
  const count = (kind: string) => (ok: boolean) => (ok ? (counters.served += 1) : fail(counters, kind));

  const kinds: Array<() => Promise<unknown>> = [
    () => client(local, (s, d) => echo(s, Buffer.from('short tunnel\n'), d)).then(count('short -L')),
    () => client(socks, (s, d) => socks5(s, target.port, d)).then(count('short -D')),
    () => client(http, (s, d) => httpConnect(s, target.port, d)).then(count('short --http')),
    // Idle: open, echo once, then sit for a few seconds before closing.
    () => client(local, (s, d) => echo(s, Buffer.from('idle\n'), (ok) => (ok ? setTimeout(() => d(true), 3000) : d(false))), 15_000).then(count('idle -L')),
    // Slow: the request a byte at a time.
    () =>
      client(http, (s, d) => {
        const request = Buffer.from(`CONNECT ${LOOPBACK}:${target.port} HTTP/1.1\r\n\r\n`);
        let i = 0;
        const timer = setInterval(() => (i < request.length ? s.write(request.subarray(i, ++i)) : clearInterval(timer)), 20);
        s.once('data', (c: Buffer) => d(/^HTTP\/1\.[01] 200/.test(c.toString('latin1'))));
        s.once('close', () => clearInterval(timer));
      }).then(count('slow --http')),
    // Malformed: garbage must be answered or closed, never hang (a close or any answer counts as handled).
    () => client(socks, (s, d) => (s.once('close', () => d(true)), s.once('data', () => d(true)), s.write(Buffer.from([9, 9, 9, 9])))).then((ok) => (ok ? undefined : fail(counters, 'malformed -D unanswered'))),
    () => client(http, (s, d) => (s.once('data', () => d(true)), s.once('close', () => d(true)), s.write('BREW /pot HTCPCP/1.0\r\n\r\n'))).then((ok) => (ok ? undefined : fail(counters, 'malformed --http unanswered'))),
    // Vanishing: half a SOCKS greeting, then gone.
    () => client(socks, (s, d) => (s.write(Buffer.from([5])), setTimeout(() => d(true), 50))),
  ];

  const samples: Array<{ t: number; rss: number; fds: number }> = [];
  const started = Date.now();
  const sample = () => samples.push({ t: (Date.now() - started) / 1000, rss: statusKiB(pid, 'VmRSS'), fds: fdCount(pid) });
  await sleep(500);
  sample();
  const baselineFds = samples[0]!.fds;
  console.log(`soak: burrow forward (pid ${pid}) -L ${local}, -D ${socks}, --http ${http} for ${seconds} s; baseline ${fmt(samples[0]!.rss / 1024)} MiB RSS, ${baselineFds} fds`);
  console.log(`${pad('t (s)', 8)}${pad('RSS (MiB)', 11)}${pad('fds', 6)}${pad('served', 9)}failed`);

  const inFlight = new Set<Promise<unknown>>();
  const deadline = started + seconds * 1000;
  let nextReport = Date.now() + 5000;
  while (Date.now() < deadline) {
    while (inFlight.size < 40) {
      const p = kinds[Math.floor(Math.random() * kinds.length)]!();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await Promise.race([...inFlight, sleep(50)]);
    if (Date.now() >= nextReport) {
      sample();
      const s = samples.at(-1)!;
      console.log(`${pad(fmt(s.t, 0), 8)}${pad(fmt(s.rss / 1024), 11)}${pad(String(s.fds), 6)}${pad(String(counters.served), 9)}${counters.failed}`);
      nextReport += 5000;
    }
  }
  await Promise.all(inFlight);
  await sleep(1000); // let burrow close the target side of the last tunnels
  sample();
  const end = samples.at(-1)!;
  child.kill('SIGTERM');
  target.close();

  const during = samples.slice(1, -1);
  const half = Math.floor(during.length / 2);
  const peak = (list: typeof samples) => Math.max(0, ...list.map((s) => s.rss));
  const firstPeak = peak(during.slice(0, half));
  const secondPeak = peak(during.slice(half));
  const problems: string[] = [];
  if (end.fds > baselineFds + 2) problems.push(`file descriptors: ${end.fds} after the run, ${baselineFds} before`);
  if (half > 0 && secondPeak > firstPeak * 1.25) problems.push(`RSS still growing: peak ${fmt(secondPeak / 1024)} MiB in the second half, ${fmt(firstPeak / 1024)} in the first`);
  const wellBehavedFailures = [...counters.failures].filter(([why]) => !why.startsWith('malformed'));
  if (wellBehavedFailures.length) problems.push(`failures: ${wellBehavedFailures.map(([why, n]) => `${why} ×${n}`).join(', ')}`);
  console.log(`soak: ${counters.served} exchanges served, ${counters.failed} failed; end ${fmt(end.rss / 1024)} MiB RSS, ${end.fds} fds (baseline ${baselineFds})`);
  for (const p of problems) console.log(`soak: FAIL ${p}`);
  if (!problems.length) console.log('soak: ok (no growth in file descriptors or memory, no failure of a well-behaved client)');
  return problems.length ? 1 : 0;
}

runBench('soak', main);
