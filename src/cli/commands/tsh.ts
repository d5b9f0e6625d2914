import { runTsh } from '../../wrap/tsh.ts';
import { routeAndDialFrom, type CommonValues, type CommandContext } from '../options.ts';

// `burrow tsh [opts] -- [TSH ARGS…]`: thin; src/wrap/tsh.ts does the work.

export interface TshValues extends CommonValues {
  tsh?: string;
  'no-probe'?: boolean;
  'dry-run'?: boolean;
}

export async function runTshCommand(tshArgs: string[], values: TshValues, context: CommandContext): Promise<number> {
  const { log } = context;
  const { routeOptions, dialOptions } = await routeAndDialFrom(values, process.env, log);
  return runTsh(tshArgs, {
    ...(values.tsh ? { tsh: values.tsh } : {}),
    noProbe: values['no-probe'] === true,
    dryRun: Boolean(values['dry-run']),
    routeOptions,
    dialOptions,
    log,
    quiet: values.quiet ?? false,
  });
}
