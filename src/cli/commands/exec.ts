import { usageError } from '../../errors.ts';
import { resolveRoute } from '../../route/resolve.ts';
import { runExec } from '../../wrap/exec.ts';
import { dialOptionsFrom, routeOptionsFrom, type CommonValues, type CommandContext } from '../options.ts';

// `burrow exec [opts] -- CMD [ARGS…]`: thin; src/wrap/exec.ts does the work.

export async function runExecCommand(command: string[], values: CommonValues, context: CommandContext): Promise<number> {
  if (command.length === 0) throw usageError('exec needs a command', 'burrow exec -- ssh jump.example.org (options for burrow go before the --)');
  const { log } = context;
  const routeOptions = routeOptionsFrom(values, process.env);
  // Resolve once up front: a bad proxy URL or variable is a start-up error (exit 2), not a failure per connection.
  const sample = await resolveRoute({ host: 'example.org', port: 443 }, routeOptions);
  for (const warning of sample.warnings) log.info(`route warning: ${warning}`);
  const dialOptions = dialOptionsFrom(values, log);
  return runExec(command, { routeOptions, dialOptions, log, quiet: values.quiet ?? false });
}
