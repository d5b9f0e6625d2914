import { usageError } from '../../errors.ts';
import { runExec } from '../../wrap/exec.ts';
import { routeAndDialFrom, type CommonValues, type CommandContext } from '../options.ts';

// `burrow exec [opts] -- CMD [ARGS…]`: thin; src/wrap/exec.ts does the work.

export async function runExecCommand(command: string[], values: CommonValues, context: CommandContext): Promise<number> {
  if (command.length === 0) throw usageError('exec needs a command', 'burrow exec -- ssh jump.example.org (options for burrow go before the --)');
  const { log } = context;
  const { routeOptions, policy, dialOptions } = await routeAndDialFrom(values, process.env, log);
  // Resolve once up front: a bad proxy URL or variable is a start-up error (exit 2), not a failure per connection.
  const sample = await policy.resolve({ host: 'example.org', port: 443 });
  for (const warning of sample.warnings) log.info(`route warning: ${warning}`);
  return runExec(command, { routeOptions, dialOptions, log, quiet: values.quiet ?? false });
}
