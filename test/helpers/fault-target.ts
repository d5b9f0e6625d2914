// A TCP target that misbehaves on purpose, for the fault-injection suites (test/*/faults.test.ts). Each accepted
// connection gets the same behaviour:
// - 'close':  accept and close at once, without a byte (sshd under MaxStartups, a firewall, a Teleport proxy refusing you)
// - 'banner-then-fin': send a banner, then FIN, and keep reading (half-close: the client may still send)
// - 'banner-then-reset': send a banner, then reset the connection (RST) when the client's first bytes arrive: the
//   test says when (it writes once it has seen the banner), so the tunnel is established for certain, without a pause
// - 'stream': send a banner, then data without end until the client goes away (a download)
// - 'sink':   send a banner, then read and count everything, never answering (an upload)
import net, { type Server, type Socket } from 'node:net';

export type FaultMode = 'close' | 'banner-then-fin' | 'banner-then-reset' | 'stream' | 'sink';

export interface FaultTarget {
  host: string;
  port: number;
  /** Bytes received from clients, all connections together. */
  received(): number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export const FAULT_BANNER = 'SSH-2.0-burrow-fault-target\r\n';

export async function startFaultTarget(mode: FaultMode): Promise<FaultTarget> {
  let received = 0;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    switch (mode) {
      case 'close':
        socket.end();
        break;
      case 'banner-then-fin':
        socket.end(FAULT_BANNER);
        break;
      case 'banner-then-reset':
        socket.write(FAULT_BANNER);
        socket.once('data', () => socket.resetAndDestroy());
        break;
      case 'stream': {
        socket.write(FAULT_BANNER);
        const block = Buffer.alloc(64 * 1024, 0x62);
        const pump = () => {
          while (!socket.destroyed && socket.write(block));
        };
        socket.on('drain', pump);
        pump();
        break;
      }
      case 'sink':
        socket.write(FAULT_BANNER);
        break;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    received: () => received,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
