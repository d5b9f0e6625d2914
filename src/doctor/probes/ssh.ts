import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { algorithmsForKeyType, keyTypeOf, type HostKey } from '../known-hosts.ts';

// ssh2's own defaults (lib/protocol/constants.js DEFAULT_SERVER_HOST_KEY, Node >= 12 with Ed25519).
const DEFAULT_HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Host-key algorithms with the types known_hosts already holds for this host first, as OpenSSH orders them. */
export function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const preferred = knownTypes.flatMap(algorithmsForKeyType).filter((a) => DEFAULT_HOST_KEY_ALGORITHMS.includes(a));
  return [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

/**
 * Runs an SSH key exchange over an open tunnel far enough to learn the server's host key, then hangs up: no
 * authentication is attempted and no credential is sent. ssh2's Client reads the banner itself, so the tunnel must
 * still hold every byte the server sent (readFirstBytes pushes them back).
 */
export function probeSshHostKey(stream: Duplex, knownTypes: string[], timeoutMs: number, signal: AbortSignal): Promise<HostKey> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    const finish = (error: Error | undefined, key?: HostKey) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      client.removeAllListeners('error');
      client.on('error', () => {});
      client.end();
      stream.destroy();
      if (error) reject(error);
      else resolve(key!);
    };
    const onAbort = () => finish(new Error('no host key in time'));
    signal.addEventListener('abort', onAbort, { once: true });
    client.on('error', (error: Error) => finish(new Error(`key exchange failed: ${error.message}`)));
    client.on('close', () => finish(new Error('the server closed the connection during the key exchange')));
    client.connect({
      sock: stream,
      username: 'burrow-doctor',
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownTypes) as ssh2.ServerHostKeyAlgorithm[] },
      hostVerifier: (key: Buffer) => {
        finish(undefined, { type: keyTypeOf(key), blob: Buffer.from(key) });
        return false;
      },
    });
  });
}
