// A Node target for half-close tests: it answers only after the client's FIN.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { LOOPBACK } from '../../peers/net.ts';

export interface ReplyAfterEofServer {
  host: string;
  port: number;
  /** For each connection, what it received before the client's FIN. */
  received: Buffer[];
  stop(): Promise<void>;
}

/**
 * A TCP server that reads until the client half-closes, then answers `got N bytes sha256 HEX\n` and closes. A client
 * (or a proxy) that ends the whole connection on stdin EOF never sees the answer.
 */
export async function startReplyAfterEofServer(): Promise<ReplyAfterEofServer> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('end', () => {
      const all = Buffer.concat(chunks);
      received.push(all);
      // A short pause makes "the reply arrives after the FIN went through" unambiguous.
      setTimeout(() => socket.end(replyFor(all)), 50);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: LOOPBACK,
    port,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The answer startReplyAfterEofServer gives for `data`. */
export function replyFor(data: Buffer | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return `got ${buf.length} bytes sha256 ${createHash('sha256').update(buf).digest('hex')}\n`;
}
