import { afterEach } from 'vitest';

interface Closable {
  close(): Promise<void>;
}

/** Returns `track(startX())`: the peer, closed after each test of the calling file, whatever the test did. */
export function trackPeers(): <T extends Closable>(peer: Promise<T>) => Promise<T> {
  const peers: Closable[] = [];
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });
  return async (peer) => {
    const started = await peer;
    peers.push(started);
    return started;
  };
}
