import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { usageError } from '../../errors.ts';
import type { Log } from '../../log.ts';
import { dial } from '../../dial/dial.ts';
import type { RelayInstructions } from '../../relay/background-relay.ts';
import { formatHops } from '../../route/proxy-url.ts';
import { relayStdio, type TunnelLabel } from '../../relay/stdio.ts';
import { formatTarget, makeTarget } from '../../route/target.ts';
import { COMMON_OPTIONS, logFromOptions, routeAndDialFrom, type CommonValues } from '../options.ts';

export const CONNECT_USAGE = `usage: burrow connect HOST PORT [options]
  Connects stdin/stdout to HOST:PORT through the route burrow resolves. For ~/.ssh/config:
      ProxyCommand burrow connect %h %p
  --fdpass   hand the open tunnel to ssh and exit (needs ProxyUseFdpass yes, OpenSSH 6.5+):
      ProxyCommand burrow connect --fdpass %h %p
      ProxyUseFdpass yes`;

const CONNECT_OPTIONS = {
  ...COMMON_OPTIONS,
  fdpass: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The hidden first argument of the process that relays an fd-passed TLS route (src/relay/background-relay.ts). */
const RELAY_FOR_FDPASS = '--relay-for-fdpass';

/** The ProxyCommand path: node:util parseArgs, no yargs, no pino unless something is logged. */
export async function runConnect(argv: string[], setLog: (log: Log) => void): Promise<number> {
  if (argv[0] === RELAY_FOR_FDPASS) {
    const { relayArguments } = await import('../../relay/background-relay.ts');
    const relay = await relayArguments();
    return connect(relay.argv, setLog, relay);
  }
  return connect(argv, setLog);
}

/** `relay`: this process is the background relay of an fd-passing burrow (src/relay/background-relay.ts). */
async function connect(argv: string[], setLog: (log: Log) => void, relay?: RelayInstructions): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: CONNECT_OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`${(error as Error).message.split('\n')[0]}`, 'burrow connect --help lists the options');
  }
  const values = parsed.values as CommonValues & { help?: boolean; fdpass?: boolean };
  if (values.help) {
    process.stderr.write(`${CONNECT_USAGE}\n`);
    return 0;
  }
  const log = logFromOptions(values);
  setLog(log);
  if (parsed.positionals.length !== 2) {
    throw usageError(`connect takes HOST and PORT, got ${parsed.positionals.length} argument(s)`, 'ProxyCommand burrow connect %h %p');
  }
  if (relay?.inherited) {
    // The parent dialed and read past the proxy's answer: relay its socket, no route and no proxy of our own.
    relay.announceOpen();
    return relayTunnel(relay.inherited.socket, { target: formatTarget(makeTarget(parsed.positionals[0]!, parsed.positionals[1]!)), route: relay.inherited.route }, log);
  }
  const fdpass = values.fdpass === true ? await import('../../relay/fdpass.ts') : undefined;
  fdpass?.checkFdpassStdout();
  const target = makeTarget(parsed.positionals[0]!, parsed.positionals[1]!);
  const { policy, dialOptions } = await routeAndDialFrom(values, process.env, log, { prompt: true });
  const plan = await policy.resolve(target);
  // Shown with -v only: ssh prints the ProxyCommand's stderr on every session, and `burrow route` shows them anyway.
  for (const warning of plan.warnings) log.info(`route warning: ${warning}`);
  if (fdpass && !fdpass.canHandOver(plan)) {
    // A TLS hop: the tunnel cannot leave this process, so a background burrow relays it (without --fdpass).
    const { relayInBackground } = await import('../../relay/background-relay.ts');
    return relayInBackground(['connect', RELAY_FOR_FDPASS], argv.filter((word) => word !== '--fdpass'), log);
  }
  const connection = await dial(plan, { ...dialOptions, reads: fdpass ? 'bounded' : 'reused' });
  const label = { target: formatTarget(plan.target), route: formatHops(connection.alternative.hops) };
  if (fdpass) {
    const readPast = fdpass.bytesReadPast(connection.stream);
    if (readPast === undefined) {
      await fdpass.handOver(connection.stream, log);
      return 0;
    }
    // The target's first bytes are in this process: the socket and those bytes go to a background burrow that
    // writes them to ssh first and then relays (no byte lost, no failure).
    log.debug('bytes were read past the proxy\'s answer; a background burrow relays the tunnel', { early_bytes: readPast.readableLength });
    const { relayInBackground } = await import('../../relay/background-relay.ts');
    return relayInBackground(['connect', RELAY_FOR_FDPASS], argv.filter((word) => word !== '--fdpass'), log, { socket: readPast, route: label.route });
  }
  relay?.announceOpen();
  return relayTunnel(connection.stream, label, log);
}

/** Relays stdin/stdout and the tunnel until both directions end; the exit code for this process. */
async function relayTunnel(tunnel: Duplex, label: TunnelLabel, log: Log): Promise<number> {
  const started = Date.now();
  const result = await relayStdio(tunnel, log, label);
  log.info('tunnel closed', { sent: result.sent, received: result.received, seconds: (Date.now() - started) / 1000, reason: result.reason });
  if (result.signal && result.signal !== 'SIGHUP') return 128 + (result.signal === 'SIGINT' ? 2 : 15);
  return 0;
}
