// The two loopback servers the benchmark measures against, both inside the bench process (which is otherwise idle
// while a run is under way, so its event loop stamps events within a fraction of a millisecond):
// - a counting sink for throughput: it reads into one reused 1 MiB buffer and only counts, so it costs about half
//   the CPU of a plain 'data' listener (the machine has 2 cores that the generator, the client, squid and the sink
//   share; a cheap sink leaves more of them to the client under test);
// - an echo target for start-up: it stamps the moment it accepts a connection and echoes every byte back.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { LOOPBACK } from '../peers/net.ts';

export interface SinkRun {
  expected: number;
  bytes: number;
  connections: number;
  acceptedAt?: number;
  firstByteAt?: number;
  /** When `bytes` reached `expected`. */
  completeAt?: number;
  /** When the client's side ended (FIN or reset). */
  endAt?: number;
  /** Resolves when all expected bytes are in, or the connection ended short of them. */
  settled: Promise<void>;
}

interface ActiveRun extends SinkRun {
  settle: () => void;
}

export interface Sink {
  port: number;
  /** Arms the sink for the next connection, expecting `bytes`. */
  expect(bytes: number): SinkRun;
  /** The CPU time (ms) this process spent since the last expect(): the sink's share, as the process is otherwise idle. */
  cpuMsSinceExpect(): number;
  close(): void;
}

const SINK_BUFFER_BYTES = 1 << 20;

export async function startSink(): Promise<Sink> {
  const buffer = Buffer.allocUnsafe(SINK_BUFFER_BYTES);
  let current: ActiveRun | undefined;
  let cpuAtExpect = process.cpuUsage();
  const sockets = new Set<net.Socket>();

  const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
    const run = current;
    const now = performance.now();
    if (!run) {
      accepted.destroy();
      return;
    }
    run.connections += 1;
    run.acceptedAt ??= now;
    const onBytes = (n: number): void => {
      if (run.firstByteAt === undefined) run.firstByteAt = performance.now();
      run.bytes += n;
      if (run.completeAt === undefined && run.bytes >= run.expected) {
        run.completeAt = performance.now();
        run.settle();
      }
    };
    const onEnd = (): void => {
      run.endAt ??= performance.now();
      run.settle();
    };
    const socket = withUserBuffer(accepted, buffer, onBytes);
    sockets.add(socket);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
    socket.on('close', () => {
      sockets.delete(socket);
      onEnd();
    });
    socket.resume();
  });
  await listen(server);

  return {
    port: portOf(server),
    expect(bytes: number): SinkRun {
      let settle!: () => void;
      const settled = new Promise<void>((resolve) => (settle = resolve));
      current = { expected: bytes, bytes: 0, connections: 0, settled, settle };
      cpuAtExpect = process.cpuUsage();
      return current;
    },
    cpuMsSinceExpect(): number {
      const used = process.cpuUsage(cpuAtExpect);
      return (used.user + used.system) / 1000;
    },
    close(): void {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * Re-wraps an accepted (paused) socket's handle in a Socket with `onread`, so every read lands in `buffer` with no
 * allocation. net.Server has no `onread` option; `new net.Socket({ handle })` is what net.Server itself does with an
 * accepted handle. Falls back to a plain 'data' listener if the handle is not where Node 20 keeps it.
 */
function withUserBuffer(accepted: net.Socket, buffer: Buffer, onBytes: (n: number) => void): net.Socket {
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  if (!handle) {
    accepted.on('data', (chunk: Buffer) => onBytes(chunk.length));
    return accepted;
  }
  holder._handle = null;
  accepted.destroy(); // releases the server's connection count; the handle now belongs to the new socket
  const options = {
    handle,
    onread: {
      buffer,
      callback: (n: number): boolean => {
        onBytes(n);
        return true;
      },
    },
  };
  return new net.Socket(options as net.SocketConstructorOpts);
}

export interface EchoTarget {
  port: number;
  /** Arms the target: the next connection's accept time resolves the returned promise. */
  expectConnection(): Promise<number>;
  close(): void;
}

export interface EchoTargetOptions {
  /**
   * End each connection once this many bytes have been echoed: the target closes first, like an HTTP/1.0 server, so
   * TIME_WAIT stays on the listening side of each hop instead of piling up on the ephemeral ports of the clients
   * (tens of thousands of those make every later connect() slower). Default: echo until the client ends.
   */
  closeAfterBytes?: number;
}

export async function startEchoTarget(options: EchoTargetOptions = {}): Promise<EchoTarget> {
  let waiting: ((acceptedAt: number) => void) | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    const acceptedAt = performance.now();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let echoed = 0;
    socket.on('data', (chunk: Buffer) => {
      socket.write(chunk);
      echoed += chunk.length;
      if (options.closeAfterBytes !== undefined && echoed >= options.closeAfterBytes) socket.end();
    });
    const resolve = waiting;
    waiting = undefined;
    resolve?.(acceptedAt);
  });
  await listen(server);
  return {
    port: portOf(server),
    expectConnection(): Promise<number> {
      return new Promise<number>((resolve) => (waiting = resolve));
    },
    close(): void {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function listen(server: net.Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
}

function portOf(server: net.Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}
