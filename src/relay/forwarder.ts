import type { Socket } from 'node:net';
import type { Log } from '../log.ts';
import { formatTarget } from '../route/target.ts';
import type { LocalForwardSpec } from './forward-spec.ts';
import { openTunnel, startListener, type ConnectionLimits, type RunningListener, type Router } from './listener.ts';
import { splice } from './splice.ts';

// -L: every accepted connection gets its own route and dial to the one target, then the bytes are relayed both
// ways until both sides have closed. A failed dial closes that client (logged), never the listener.

export interface ForwarderOptions {
  spec: LocalForwardSpec;
  router: Router;
  log: Log;
  limits: ConnectionLimits;
  idleTimeoutMs?: number;
}

export function startForwarder(options: ForwarderOptions): Promise<RunningListener> {
  const { spec, router } = options;
  const target = formatTarget(spec.target);
  return startListener({
    name: `-L ${spec.text}`,
    listen: spec.listen,
    log: options.log,
    limits: options.limits,
    handle: async (socket: Socket, record) => {
      record.target = target;
      // The client may already be gone (or reset) while we dial; its 'close' is noticed by splice() afterwards.
      let connection;
      try {
        connection = await openTunnel(router, spec.target, record);
      } catch {
        return; // logged by the listener from record.failure; finish() closes the client
      }
      if (socket.destroyed) {
        connection.stream.destroy();
        record.failure = { reason: 'the client left before the tunnel opened' };
        return;
      }
      record.splice = splice(socket, connection.stream, options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {});
      record.result = await record.splice.done;
    },
  });
}
