// bench:forward's clients: one short tunnel, one idle tunnel, and a pool that runs many of them.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { LOOPBACK } from '../peers/net.ts';
import { PAYLOAD, TUNNEL_TIMEOUT_MS } from './forward-settings.ts';


/**
 * One short tunnel: connect, send PAYLOAD, read it back, wait for the close. Resolves ms, or why it failed. With
 * `clientEnds` the client ends once it has the echo (the plain echo target); else the target ends first (see
 * EchoTargetOptions.closeAfterBytes) and the client answers its FIN.
 */
export function shortTunnel(port: number, clientEnds = true): Promise<number | string> {
  return new Promise((resolveTunnel) => {
    const t0 = performance.now();
    const socket = net.connect({ port, host: LOOPBACK, noDelay: true });
    let got = 0;
    let done = false;
    const finish = (result: number | string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolveTunnel(result);
    };
    const timer = setTimeout(() => finish(`no close within ${TUNNEL_TIMEOUT_MS / 1000} s (${got} of ${PAYLOAD.length} bytes back)`), TUNNEL_TIMEOUT_MS);
    socket.on('connect', () => socket.write(PAYLOAD));
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= PAYLOAD.length && clientEnds) socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish(`error ${e.code ?? e.message} (${got} bytes back)`));
    socket.on('close', () => finish(got >= PAYLOAD.length ? performance.now() - t0 : `closed with ${got} of ${PAYLOAD.length} bytes back`));
  });
}

/** One idle tunnel: connect, echo PAYLOAD once (so it is open end to end), and leave it open. */
export function idleTunnel(port: number): Promise<net.Socket> {
  return new Promise((resolveTunnel, reject) => {
    const socket = net.connect({ port, host: LOOPBACK, noDelay: true });
    let got = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no echo within ${TUNNEL_TIMEOUT_MS / 1000} s`));
    }, TUNNEL_TIMEOUT_MS);
    socket.on('connect', () => socket.write(PAYLOAD));
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= PAYLOAD.length) {
        clearTimeout(timer);
        resolveTunnel(socket);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`error ${e.code ?? e.message}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed with ${got} of ${PAYLOAD.length} bytes back`));
    });
  });
}

/** Runs `count` tasks, `concurrency` at a time. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}
