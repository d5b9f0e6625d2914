import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BurrowError, usageError } from '../errors.ts';
import type { Log } from '../log.ts';
import type { RoutePlan } from '../route/plan.ts';
import { fdPassingSupport, isSocketFd, sendHandle } from './send-fd.ts';

// `burrow connect --fdpass` under OpenSSH's ProxyUseFdpass (REFERENCE.md §6): ssh gives the ProxyCommand one end of
// a socketpair as stdin and stdout, receives one descriptor over it, waits for the ProxyCommand to exit and then
// speaks SSH over that descriptor itself. No burrow process stays in the data path.

/** Fails before any proxy is contacted when ssh did not ask for fd passing (stdout is not a socket). */
export function checkFdpassStdout(): void {
  if (!isSocketFd(1)) {
    throw usageError(
      'connect --fdpass needs stdout to be a Unix socket, as ssh gives it with ProxyUseFdpass yes',
      'add "ProxyUseFdpass yes" beside this ProxyCommand in ~/.ssh/config (OpenSSH 6.5 or later), or drop --fdpass',
    );
  }
  const unsupported = fdPassingSupport();
  if (unsupported !== undefined) {
    throw new BurrowError('internal', `connect --fdpass cannot pass descriptors on this Node: ${unsupported}`, {
      hint: 'drop --fdpass and ProxyUseFdpass from the ssh configuration (burrow then relays the tunnel itself)',
    });
  }
}

/**
 * True when every alternative's tunnel is a plain TCP socket that can be handed to ssh as it is. A TLS hop (an
 * https:// proxy) keeps the session's keys in this process, so such routes relay from a background process instead.
 */
export function canHandOver(plan: RoutePlan): boolean {
  return plan.alternatives.every((alternative) => alternative.hops.every((hop) => hop.scheme !== 'https'));
}

/**
 * The tunnel's socket when this process holds bytes that came behind the proxy's answer (the target's first bytes),
 * so that the socket alone cannot go to ssh; undefined when it can (or is no plain socket: handOver says why). The
 * dial reads nothing past an answer that ends where it reads (DialOptions.reads 'bounded'), but a proxy that sends
 * its 200 before it has our credentials lands it in the bulk read of a 407's body; the caller then relays the socket
 * and those bytes from a background burrow (src/relay/background-relay.ts).
 */
export function bytesReadPast(tunnel: Duplex): Socket | undefined {
  if (!(tunnel instanceof Socket) || (tunnel as Socket & { encrypted?: boolean }).encrypted) return undefined;
  return tunnel.readableLength > 0 ? tunnel : undefined;
}

/**
 * Sends the tunnel's socket to ssh over stdout and closes this process's copy (close, never shutdown: ssh's copy
 * stays open). Bytes read past the handshake would be lost to ssh: the caller checks bytesReadPast first, and this
 * checks once more.
 */
export async function handOver(tunnel: Duplex, log: Log): Promise<void> {
  const handle = passableHandle(tunnel);
  if (typeof handle === 'string') {
    tunnel.destroy();
    throw new BurrowError('internal', `connect --fdpass cannot hand the tunnel to ssh: ${handle}`, {
      hint: 'please report this; without --fdpass and ProxyUseFdpass burrow relays the tunnel itself',
    });
  }
  tunnel.pause();
  try {
    await sendHandle(1, handle);
  } catch (error) {
    tunnel.destroy();
    throw new BurrowError('broken', `could not pass the tunnel to ssh: ${(error as Error).message}`, {
      said: (error as Error).message,
      hint: 'ssh closed its end first (it may have timed out), or stdout is not the socket ssh made for ProxyUseFdpass',
    });
  }
  log.debug('tunnel handed to ssh (ProxyUseFdpass)');
  tunnel.destroy();
}

function passableHandle(tunnel: Duplex): unknown {
  if (!(tunnel instanceof Socket)) return 'the tunnel is not a socket';
  if ((tunnel as Socket & { encrypted?: boolean }).encrypted) return 'the tunnel runs through TLS';
  if (tunnel.readableLength > 0) return `${tunnel.readableLength} bytes were read past the proxy's answer`;
  const handle = (tunnel as unknown as { _handle?: unknown })._handle;
  return handle ?? 'the tunnel is already closed';
}
