import yargs, { type Argv, type Options } from 'yargs';
import { usageError } from '../errors.ts';
import type { Log } from '../log.ts';
import { COMMON_OPTIONS, logFromOptions, type CommonValues, type OptionSpec } from './options.ts';
import { VERSION } from '../version.ts';

// Every command but `connect` goes through here: yargs gives them help text and validation, and its ~100 ms load
// is paid only by commands a person types, never by the ProxyCommand.

export interface CommandContext {
  log: Log;
  values: CommonValues;
}

function toYargsOption(spec: OptionSpec): Options {
  const option: Options = { describe: spec.description, ...(spec.short ? { alias: spec.short } : {}) };
  if (spec.type === 'boolean' && spec.multiple) return { ...option, type: 'count' };
  if (spec.type === 'string' && spec.multiple) return { ...option, type: 'string', array: true, requiresArg: true };
  return { ...option, type: spec.type, ...(spec.type === 'string' ? { requiresArg: true } : {}) };
}

export function withCommonOptions<T>(y: Argv<T>): Argv<T> {
  let result = y;
  for (const [name, spec] of Object.entries(COMMON_OPTIONS)) {
    result = result.option(name, toYargsOption(spec as OptionSpec)) as Argv<T>;
  }
  return result.group(Object.keys(COMMON_OPTIONS), 'Route and logging options:');
}

export async function runYargsCli(argv: string[], setLog: (log: Log) => void): Promise<number> {
  let exitCode = 0;
  const context = (values: CommonValues): CommandContext => {
    const log = logFromOptions(values);
    setLog(log);
    return { log, values };
  };
  const cli = yargs(argv)
    .scriptName('burrow')
    .version(VERSION)
    .strict()
    .exitProcess(false)
    .showHelpOnFail(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message: string | undefined, error: Error | undefined) => {
      if (error) throw error;
      throw usageError(message ?? 'invalid arguments', 'burrow --help lists the commands; burrow COMMAND --help their options');
    })
    .command(
      'route <host> <port>',
      'show which route burrow takes to HOST:PORT, and why',
      (y) => withCommonOptions(y.positional('host', { type: 'string', demandOption: true }).positional('port', { type: 'string', demandOption: true }).option('json', { type: 'boolean', describe: 'print the plan as JSON' })),
      async (args) => {
        const { runRoute } = await import('./commands/route.ts');
        exitCode = await runRoute(String(args.host), String(args.port), Boolean(args.json), context(args as CommonValues));
      },
    )
    .demandCommand(1, 'name a command');
  await cli.parseAsync();
  return exitCode;
}
