// Backpressure, both ways, 32 MiB each: a target that does not read for a while and then reads in small sips, and a
// client that drains burrow's output slowly. `connect` reads stdin into one reused 256 KiB buffer and writes the
// tunnel from it; that is only safe if reading stops while a write is queued. Checksums prove nothing was lost,
// duplicated or overwritten; the pauses are the peers' behaviour, not synchronisation.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { connectLocal, startForward } from '../helpers/burrow-forward.ts';
import { BURROW, cleanEnv } from '../helpers/run-burrow.ts';

const SIZE = 32 * 1024 * 1024;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

interface SlowTarget {
  server: Server;
  port: number;
  /** Resolves with the checksum of what one connection received, once its client has ended. */
  received: Promise<string>;
  sent: string;
}

/** Holds its input unread for a moment, then takes it in small sips; sends SIZE random bytes at the same time. */
async function startSlowTarget(): Promise<SlowTarget> {
  const payload = randomBytes(SIZE);
  let deliver!: (digest: string) => void;
  const received = new Promise<string>((resolve) => (deliver = resolve));
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.pause();
    const hash = createHash('sha256');
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      socket.pause();
      setTimeout(() => socket.resume(), 1);
    });
    socket.once('end', () => {
      deliver(hash.digest('hex'));
      socket.end();
    });
    socket.on('error', () => {});
    setTimeout(() => socket.resume(), 300);
    socket.write(payload);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, received, sent: sha256(payload) };
}

/** Reads `source` to its end in small, spaced sips; resolves with the checksum and the byte count. */
function drainSlowly(source: Readable): Promise<{ digest: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    source.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      source.pause();
      setTimeout(() => source.resume(), 1);
    });
    source.once('end', () => resolve({ digest: hash.digest('hex'), bytes }));
    source.once('error', reject);
  });
}

/** Writes SIZE random bytes, honouring backpressure, then ends; returns their checksum. */
async function writeAll(sink: Writable): Promise<string> {
  const payload = randomBytes(SIZE);
  for (let offset = 0; offset < SIZE; offset += 1024 * 1024) {
    if (!sink.write(payload.subarray(offset, offset + 1024 * 1024))) await once(sink, 'drain');
  }
  sink.end();
  return sha256(payload);
}

const servers: Server[] = [];
const fifoDir = mkdtempSync(join(tmpdir(), 'burrow-fifo-'));
afterAll(() => {
  for (const server of servers) server.close();
  rmSync(fifoDir, { recursive: true, force: true });
});

/**
 * A real pipe (a FIFO), as OpenSSH gives the ProxyCommand; Node's spawn would give a socket pair. Both ends are
 * opened here without blocking: the reading end first, with O_NONBLOCK, so that opening the writing end succeeds.
 */
function fifo(name: string): { readFd: number; writeFd: number } {
  const path = join(fifoDir, name);
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return { readFd, writeFd: openSync(path, constants.O_WRONLY) };
}

describe('backpressure, 32 MiB each way through a slow target and a slow reader', () => {
  it('connect, with stdin and stdout real pipes (FIFOs), as under OpenSSH', async () => {
    const target = await startSlowTarget();
    servers.push(target.server);
    const input = fifo('stdin');
    const output = fifo('stdout');
    const child = spawn(process.execPath, [BURROW, 'connect', '--direct', '127.0.0.1', String(target.port)], { env: cleanEnv(), stdio: [input.readFd, output.writeFd, 'pipe'] });
    // Only burrow holds its ends now: its EOF on stdout must come from burrow, not from a copy left open here.
    closeSync(input.readFd);
    closeSync(output.writeFd);
    const toBurrow = new Socket({ fd: input.writeFd, readable: false, writable: true });
    const fromBurrow = new Socket({ fd: output.readFd, readable: true, writable: false });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    const [sent, drained] = await Promise.all([writeAll(toBurrow), drainSlowly(fromBurrow)]);
    const [code] = (await exited) as [number | null];
    expect(code, stderr).toBe(0);
    expect(drained.bytes).toBe(SIZE);
    expect(drained.digest).toBe(target.sent);
    expect(await target.received).toBe(sent);
  });

  it('forward -L', async () => {
    const target = await startSlowTarget();
    servers.push(target.server);
    const forward = await startForward(['--direct', '-L', `0:127.0.0.1:${target.port}`], { env: cleanEnv(), listeners: 1 });
    try {
      const socket: Socket = await connectLocal(forward.ports[0]!);
      const [sent, drained] = await Promise.all([writeAll(socket), drainSlowly(socket)]);
      expect(drained.bytes).toBe(SIZE);
      expect(drained.digest).toBe(target.sent);
      expect(await target.received).toBe(sent);
      socket.destroy();
    } finally {
      await forward.stop();
    }
  });
});
