import { parseArgs } from 'node:util';
import { usageError } from '../../errors.ts';
import type { Log } from '../../log.ts';
import { dial } from '../../dial/dial.ts';
import { relayStdio } from '../../relay/stdio.ts';
import { makeTarget } from '../../route/target.ts';
import { COMMON_OPTIONS, logFromOptions, routeAndDialFrom, type CommonValues } from '../options.ts';

export const CONNECT_USAGE = `usage: burrow connect HOST PORT [options]
  Connects stdin/stdout to HOST:PORT through the route burrow resolves. For ~/.ssh/config:
      ProxyCommand burrow connect %h %p`;

/** The ProxyCommand path: node:util parseArgs, no yargs, no pino unless something is logged. */
export async function runConnect(argv: string[], setLog: (log: Log) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`${(error as Error).message.split('\n')[0]}`, 'burrow connect --help lists the options');
  }
  const values = parsed.values as CommonValues & { help?: boolean };
  if (values.help) {
    process.stderr.write(`${CONNECT_USAGE}\n`);
    return 0;
  }
  const log = logFromOptions(values);
  setLog(log);
  if (parsed.positionals.length !== 2) {
    throw usageError(`connect takes HOST and PORT, got ${parsed.positionals.length} argument(s)`, 'ProxyCommand burrow connect %h %p');
  }
  const target = makeTarget(parsed.positionals[0]!, parsed.positionals[1]!);
  const { policy, dialOptions } = await routeAndDialFrom(values, process.env, log, { prompt: true });
  const plan = await policy.resolve(target);
  // Shown with -v only: ssh prints the ProxyCommand's stderr on every session, and `burrow route` shows them anyway.
  for (const warning of plan.warnings) log.info(`route warning: ${warning}`);
  const connection = await dial(plan, dialOptions);
  const started = Date.now();
  const result = await relayStdio(connection.stream, log);
  log.info('tunnel closed', { sent: result.sent, received: result.received, seconds: (Date.now() - started) / 1000, reason: result.reason });
  if (result.signal && result.signal !== 'SIGHUP') return 128 + (result.signal === 'SIGINT' ? 2 : 15);
  return 0;
}
