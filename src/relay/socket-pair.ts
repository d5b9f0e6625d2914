import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * Two connected Unix sockets, as socketpair(2) would give (Node has no socketpair API): a listener on a path in a
 * fresh 0700 directory, so no other user can connect to it in between, removed as soon as the pair is made.
 */
export async function socketPair(tmpdir: string): Promise<[Socket, Socket]> {
  const directory = mkdtempSync(join(tmpdir, 'burrow-pair-'));
  const path = join(directory, 's');
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = await new Promise<Socket>((resolve, reject) => {
      const socket = connect({ path, allowHalfOpen: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
    client.pause();
    return [client, await accepted];
  } finally {
    server.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
