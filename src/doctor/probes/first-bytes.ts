import type { Duplex } from 'node:stream';
import { printable } from '../../route/target.ts';

export type FirstBytes = { kind: 'data'; bytes: Buffer } | { kind: 'silent' } | { kind: 'closed' };

/**
 * Waits up to `waitMs` for the server to speak first (SSH servers do; TLS and HTTP servers wait for the client).
 * Whatever arrives is pushed back onto the stream, which is left paused, so the next probe sees every byte.
 */
export function readFirstBytes(stream: Duplex, waitMs: number, signal: AbortSignal): Promise<FirstBytes> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: FirstBytes) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (lineTimer) clearTimeout(lineTimer);
      stream.off('data', onData);
      stream.off('end', onClosed);
      stream.off('close', onClosed);
      stream.off('error', onClosed);
      signal.removeEventListener('abort', onSilent);
      stream.pause();
      if (result.kind === 'data') stream.unshift(result.bytes);
      resolve(result);
    };
    let received = Buffer.alloc(0);
    let lineTimer: NodeJS.Timeout | undefined;
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // An SSH banner ends with a line feed; give a split first line a moment more, bounded by waitMs.
      if (received.includes(0x0a) || received.length >= 1024) finish({ kind: 'data', bytes: received });
      else lineTimer ??= setTimeout(() => finish({ kind: 'data', bytes: received }), 200);
    };
    const onClosed = () => finish(received.length ? { kind: 'data', bytes: received } : { kind: 'closed' });
    const onSilent = () => {
      finish(received.length ? { kind: 'data', bytes: received } : { kind: 'silent' });
    };
    const timer = setTimeout(onSilent, waitMs);
    stream.on('data', onData);
    stream.once('end', onClosed);
    stream.once('close', onClosed);
    stream.once('error', onClosed);
    signal.addEventListener('abort', onSilent, { once: true });
    stream.resume();
  });
}

/** The first line, printable and short, for the report. */
export function firstLine(bytes: Buffer): string {
  const line = bytes.toString('latin1').split(/\r?\n/)[0] ?? '';
  return printable(line).slice(0, 100);
}
