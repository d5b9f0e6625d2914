import type { ProxyHeader } from '../route/proxy-headers.ts';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { BurrowError, isBurrowError } from '../errors.ts';
import type { Log } from '../log.ts';
import { dial, type Connection, type DialOptions } from '../dial/dial.ts';
import type { Environment } from '../route/environment.ts';
import type { RoutePlan } from '../route/plan.ts';
import { resolveRoute, type RouteOptions } from '../route/policy.ts';
import { formatHostPort, type Target } from '../route/target.ts';
import { formatListen, isLoopbackAddress, type ListenAddress } from './forward-spec.ts';
import type { Splice, SpliceResult } from './splice.ts';
import { formatHops } from '../route/proxy-url.ts';

// What -L, -D and --http share: a TCP listener, independent connections with ids, the per-connection log line,
// --max-connections, and a drain on shutdown. The protocol of each listener is its `handle` function; the way out
// is always resolveRoute() + dial() (a Router), never a socket of its own.

/** Route and dial, one target at a time, so that NO_PROXY, chains and PAC rules apply per target. */
export interface Router {
  route(target: Target): Promise<RoutePlan>;
  /** `extra`: options of this one dial (a plain-HTTP request to forward). */
  dial(plan: RoutePlan, extra?: Pick<DialOptions, 'forward'>): Promise<Connection>;
  /** Where proxy credentials missing from a URL are looked up (dial's own; default process.env). */
  env?: Environment;
  /** Extra headers for every request to a proxy (dial's own): plain-HTTP requests relayed to one carry them too. */
  proxyHeaders?: readonly ProxyHeader[];
}

export function makeRouter(routeOptions: RouteOptions, dialOptions: DialOptions): Router {
  // dial() logs "tunnel open" at info; a forwarder logs one line per connection instead, so dial's own lines go
  // to debug (-vv).
  const quiet = demoteInfo(dialOptions.log);
  return {
    route: (target) => resolveRoute(target, routeOptions),
    dial: (plan, extra) => dial(plan, { ...dialOptions, log: quiet, ...extra }),
    ...(dialOptions.env ? { env: dialOptions.env } : {}),
    ...(dialOptions.proxyHeaders ? { proxyHeaders: dialOptions.proxyHeaders } : {}),
  };
}

function demoteInfo(log: Log): Log {
  return { ...log, info: (message, fields) => log.debug(message, fields) };
}

export interface ConnectionRecord {
  id: string;
  listener: string;
  client: string;
  clientIsLoopback: boolean;
  started: number;
  /** Filled in by the handler as it learns them. */
  target?: string;
  route?: string;
  protocol?: string;
  /** The relay, once the tunnel is open (so a drain can close it). */
  splice?: Splice;
  /** How it ended: a relay result, or the reason it never got that far. */
  result?: SpliceResult;
  failure?: { reason: string; error?: BurrowError };
}

export type ConnectionHandler = (socket: Socket, record: ConnectionRecord) => Promise<void>;

export interface ListenerOptions {
  /** "-L 2222:jump:22", "-D 1080", for the log. */
  name: string;
  listen: ListenAddress;
  handle: ConnectionHandler;
  log: Log;
  /** Shared by all the listeners of one process (--max-connections counts them together). */
  limits: ConnectionLimits;
}

export interface ConnectionLimits {
  maxConnections?: number;
  active: number;
  nextId: number;
}

export function newLimits(maxConnections?: number): ConnectionLimits {
  return { ...(maxConnections ? { maxConnections } : {}), active: 0, nextId: 1 };
}

export interface RunningListener {
  name: string;
  /** The address actually bound (the real port when 0 was asked). */
  address: ListenAddress;
  /** Connections open right now. */
  readonly active: number;
  /**
   * Stops accepting, then waits up to drainMs for open connections to end on their own, then closes the rest.
   * Resolves with how many had to be cut.
   */
  close(drainMs: number): Promise<number>;
}

export async function startListener(options: ListenerOptions): Promise<RunningListener> {
  const { log, limits } = options;
  const open = new Map<Socket, ConnectionRecord>();
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, options));
    server.once('error', onError);
    server.listen({ host: options.listen.host, port: options.listen.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error: NodeJS.ErrnoException) => log.error(`listener ${options.name} error: ${error.code ?? error.message}`));
  const bound = server.address() as AddressInfo;
  const address: ListenAddress = { host: options.listen.host, port: bound.port };
  let idleWaiters: Array<() => void> = [];

  server.on('connection', (socket: Socket) => {
    socket.on('error', () => {}); // reported through the handler or the relay, never as an uncaught error
    const id = `#${limits.nextId++}`;
    const clientHost = (socket.remoteAddress ?? '?').replace(/^::ffff:/, '');
    const record: ConnectionRecord = {
      id,
      listener: options.name,
      client: formatHostPort(clientHost, socket.remotePort ?? 0),
      clientIsLoopback: isLoopbackAddress(clientHost),
      started: Date.now(),
    };
    if (limits.maxConnections !== undefined && limits.active >= limits.maxConnections) {
      socket.destroy();
      log.warn(`connection ${id} from ${record.client} refused: --max-connections ${limits.maxConnections} reached`, { id, listener: options.name });
      return;
    }
    limits.active++;
    open.set(socket, record);
    options.handle(socket, record).then(
      () => finish(socket, record),
      (error: unknown) => {
        record.failure ??= { reason: `internal error: ${error instanceof Error ? error.message : String(error)}` };
        finish(socket, record);
      },
    );
  });

  const finish = (socket: Socket, record: ConnectionRecord) => {
    socket.destroy();
    if (!open.delete(socket)) return;
    limits.active--;
    logConnection(log, record);
    if (open.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
    }
  };

  return {
    name: options.name,
    address,
    get active() {
      return open.size;
    },
    async close(drainMs: number) {
      // server.close() stops accepting at once; its callback waits for every open connection, so not awaited here.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (open.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainMs);
          idleWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const cut = open.size;
      for (const [socket, record] of open) {
        if (record.splice) record.splice.close(`still open after the ${drainMs / 1000} s drain`);
        else {
          record.failure ??= { reason: 'shutting down' };
          socket.destroy();
        }
      }
      await closed;
      return cut;
    },
  };
}

function listenError(error: NodeJS.ErrnoException, options: ListenerOptions): BurrowError {
  const where = formatListen(options.listen);
  switch (error.code) {
    case 'EADDRINUSE':
      return new BurrowError('unreachable', `cannot listen on ${where} for ${options.name}: the port is already in use`, {
        said: error.code,
        hint: `another program (or another burrow) listens there: pick another port, or find it with "ss -ltnp 'sport = :${options.listen.port}'"`,
      });
    case 'EACCES':
      return new BurrowError('unreachable', `cannot listen on ${where} for ${options.name}: permission denied`, {
        said: error.code,
        hint: 'ports below 1024 need root or CAP_NET_BIND_SERVICE: use a port of 1024 or more',
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new BurrowError('unreachable', `cannot listen on ${where} for ${options.name}: ${options.listen.host} is not an address of this machine (${error.code})`, {
        said: error.code,
        hint: 'give a local address as BIND, or leave it out to bind 127.0.0.1',
      });
    default:
      return new BurrowError('unreachable', `cannot listen on ${where} for ${options.name}: ${error.code ?? error.message}`, { said: error.code ?? error.message });
  }
}

/** The -v line: one per connection, when it ends. Failed dials are warnings, seen without -v. */
export function logConnection(log: Log, record: ConnectionRecord): void {
  const fields = {
    id: record.id,
    listener: record.listener,
    client: record.client,
    ...(record.protocol ? { protocol: record.protocol } : {}),
    ...(record.target ? { target: record.target } : {}),
    ...(record.route ? { route: record.route } : {}),
    sent: record.result?.aToB ?? 0,
    received: record.result?.bToA ?? 0,
    seconds: (Date.now() - record.started) / 1000,
    reason: record.result?.reason ?? record.failure?.reason ?? 'closed',
  };
  if (record.failure?.error) {
    const error = record.failure.error;
    log.warn(`connection ${record.id} from ${record.client}${record.target ? ` to ${record.target}` : ''} failed: ${error.message}`, {
      ...fields,
      reason: `${error.kind}${error.said ? ` (${error.said})` : ''}`,
      ...(error.hint ? { hint: error.hint } : {}),
    });
    return;
  }
  log.info(`connection ${record.id} closed`, fields);
}

/** Route + dial for one connection; records the route; a failure becomes the record's failure and rethrows. */
export async function openTunnel(router: Router, target: Target, record: ConnectionRecord, extra?: Pick<DialOptions, 'forward'>): Promise<Connection> {
  let plan: RoutePlan;
  try {
    plan = await router.route(target);
    record.route = formatHops(plan.alternatives[0]?.hops ?? []);
    const connection = await router.dial(plan, extra);
    record.route = formatHops(connection.alternative.hops);
    return connection;
  } catch (error) {
    const burrowError = isBurrowError(error) ? error : new BurrowError('internal', String(error instanceof Error ? error.message : error));
    record.failure = { reason: burrowError.message, error: burrowError };
    throw burrowError;
  }
}
