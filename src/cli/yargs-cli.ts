import yargs, { type Argv, type FallbackCompletionFunction, type Options } from 'yargs';
import { usageError } from '../errors.ts';
import type { Log } from '../log.ts';
import { COMMON_OPTIONS, logFromOptions, type CommandContext, type CommonValues, type OptionSpec } from './options.ts';
import { VERSION } from '../version.ts';
import { completionScript, completionWords, SHELLS } from './completion.ts';

// Every command but `connect` goes through here: yargs gives them help text and validation, and its ~100 ms load
// is paid only by commands a person types, never by the ProxyCommand.

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
  // `exec` and `tsh`: everything after the first `--` belongs to the child program, untouched by yargs.
  const dashes = argv[0] === 'exec' || argv[0] === 'tsh' ? argv.indexOf('--') : -1;
  const childArgs = dashes >= 0 ? argv.slice(dashes + 1) : undefined;
  if (dashes >= 0) argv = argv.slice(0, dashes);
  // yargs 18 has getAliases(); @types/yargs (17) does not list it.
  const aliasesOf = (y: unknown) => (y as { getAliases(): Record<string, string[]> }).getAliases();
  const repairedCompletion: FallbackCompletionFunction = (_current, _argv, defaults, done) => {
    defaults((_error, words) => done(completionWords(words ?? [], aliasesOf(cli))));
  };
  const cli = yargs(argv)
    .scriptName('burrow')
    .version(VERSION)
    .strict()
    .exitProcess(false)
    .showHelpOnFail(false)
    // `-x URL HOST` must not read HOST as a second proxy: repeatable options take one value each, as in `connect`.
    // No boolean negation: with it, `--no-proxy LIST` meant "proxy = false" and LIST an unknown argument; the
    // `--no-…` switches are options of their own instead.
    .parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false })
    .wrap(Math.min(110, process.stdout.columns || 100))
    // The answer to --get-yargs-completions: yargs' own words, repaired (completion.ts). yargs has no other way to
    // take a completion function than .completion(), which also registers a command: given our command's name with
    // no description, it is hidden, and the `completion <shell>` command below replaces its (missing) handler.
    // getAliases() is the command being completed's (yargs rebuilds the instance for it before asking).
    .completion('completion <shell>', false, repairedCompletion)
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
    .command(
      'forward',
      'port forwards (-L) and local SOCKS (-D) / HTTP (--http) proxies, every connection through the route',
      (y) =>
        withCommonOptions(
          y
            .option('local', { alias: 'L', type: 'string', array: true, requiresArg: true, describe: 'forward [BIND:]PORT to HOST:HOSTPORT ([BIND:]PORT:HOST:HOSTPORT, IPv6 in brackets); repeatable' })
            .option('dynamic', { alias: 'D', type: 'string', array: true, requiresArg: true, describe: 'a SOCKS5/SOCKS4a proxy on [BIND:]PORT; repeatable' })
            .option('http', { type: 'string', array: true, requiresArg: true, describe: 'an HTTP proxy (CONNECT and plain http://) on [BIND:]PORT; repeatable' })
            .option('auth', { type: 'string', requiresArg: true, describe: 'USER:PASSWORD the -D/--http clients must give (else only loopback clients are served)' })
            .option('auth-file', { type: 'string', requiresArg: true, describe: 'read USER:PASSWORD from the first line of FILE' })
            .option('print-port', { type: 'boolean', describe: 'print each listener\'s port on stdout (for port 0)' })
            .option('idle-timeout', { type: 'string', requiresArg: true, describe: 'close a connection idle this many seconds (default: never)' })
            .option('drain-seconds', { type: 'string', requiresArg: true, describe: 'on SIGINT/SIGTERM, wait this long for open connections (default 10)' })
            .option('max-connections', { type: 'string', requiresArg: true, describe: 'refuse connections beyond this many open at once' })
            .option('handshake-timeout', { type: 'string', requiresArg: true, describe: 'drop a -D/--http client that has not sent its whole request in this many seconds (default 10)' })
            .group(['local', 'dynamic', 'http', 'auth', 'auth-file', 'print-port', 'idle-timeout', 'drain-seconds', 'max-connections', 'handshake-timeout'], 'Forward options:'),
        ),
      async (args) => {
        const { runForward } = await import('./commands/forward.ts');
        exitCode = await runForward(args as never, context(args as CommonValues));
      },
    )
    .command(
      'doctor [targets..]',
      'check what is reachable, direct and through each proxy, and say what to use (HOST[:PORT], port 22 by default)',
      (y) =>
        withCommonOptions(
          y
            .positional('targets', { type: 'string', array: true, describe: 'HOST[:PORT] ...' })
            .option('json', { type: 'boolean', describe: 'print one JSON document on stdout (fields in README)' })
            .option('timeout', { type: 'string', requiresArg: true, describe: 'bound on the whole run in seconds (default 30); --connect-timeout bounds each probe (default 10)' })
            .option('known-hosts', { type: 'string', requiresArg: true, describe: 'known_hosts file to compare SSH host keys with (default ~/.ssh/known_hosts)' })
            .option('ca', { type: 'string', requiresArg: true, describe: 'extra CA certificates (PEM) trusted when checking targets\' TLS certificates' })
            .option('http-check', { type: 'string', array: true, requiresArg: true, describe: 'also GET this http:// URL directly and through each HTTP proxy (repeatable)' }),
        ),
      async (args) => {
        const { runDoctorCommand } = await import('./commands/doctor.ts');
        exitCode = await runDoctorCommand(
          {
            targets: ((args.targets as string[] | undefined) ?? []).map(String),
            json: Boolean(args.json),
            ...(args.timeout !== undefined ? { timeout: String(args.timeout) } : {}),
            ...(args['known-hosts'] !== undefined ? { knownHosts: String(args['known-hosts']) } : {}),
            ...(args.ca !== undefined ? { ca: String(args.ca) } : {}),
            httpCheck: ((args['http-check'] as string[] | undefined) ?? []).map(String),
          },
          context(args as CommonValues),
        );
      },
    )
    .command(
      'exec [command..]',
      'run a program with its traffic through the route: burrow exec [options] -- CMD [ARGS...]',
      (y) => withCommonOptions(y.positional('command', { type: 'string', array: true, describe: 'the program and its arguments (after --)' })),
      async (args) => {
        const { runExecCommand } = await import('./commands/exec.ts');
        exitCode = await runExecCommand(childArgs ?? ((args.command as string[] | undefined) ?? []).map(String), args as CommonValues, context(args as CommonValues));
      },
    )
    .command(
      'tsh [tshargs..]',
      'run Teleport\'s tsh through the route: burrow tsh [options] -- [TSH ARGS...]',
      (y) =>
        withCommonOptions(
          y
            .positional('tshargs', { type: 'string', array: true, describe: 'tsh\'s arguments (after --)' })
            .option('tsh', { type: 'string', requiresArg: true, describe: 'the tsh program (default: tsh on PATH)' })
            .option('no-probe', { type: 'boolean', describe: 'skip the check of tsh\'s SSH port through /webapi/ping' })
            .option('dry-run', { type: 'boolean', describe: 'print the environment and command line it would use (credentials masked) and exit' }),
        ),
      async (args) => {
        const { runTshCommand } = await import('./commands/tsh.ts');
        exitCode = await runTshCommand(childArgs ?? ((args.tshargs as string[] | undefined) ?? []).map(String), args as never, context(args as CommonValues));
      },
    )
    .command(
      'ssh-config [hosts..]',
      'print ~/.ssh/config blocks that send HOST through burrow (--write adds them to ~/.ssh/config)',
      (y) =>
        withCommonOptions(
          y
            .positional('hosts', { type: 'string', array: true, describe: 'host names or ssh_config patterns; with --teleport, the Teleport proxy address' })
            .option('teleport', { type: 'string', requiresArg: true, describe: 'write the block "tsh config" would for CLUSTER, with tsh run by burrow tsh' })
            .option('no-multiplex', { type: 'boolean', describe: 'leave out the ControlMaster/ControlPersist lines' })
            .option('no-fdpass', { type: 'boolean', describe: 'leave out ProxyUseFdpass yes and connect --fdpass (by default ssh gets the tunnel\'s socket and no burrow process stays; never on Windows)' })
            .option('write', { type: 'boolean', describe: 'add the block to ~/.ssh/config between marker comments (idempotent, with a backup)' })
            .option('file', { type: 'string', requiresArg: true, describe: 'with --write: this file instead of ~/.ssh/config' }),
        ),
      async (args) => {
        const { runSshConfig } = await import('./commands/ssh-config.ts');
        exitCode = await runSshConfig(args as never, context(args as CommonValues));
      },
    )
    .command(
      'completion <shell>',
      'print a completion script for bash, zsh or fish (source <(burrow completion bash))',
      (y) => y.positional('shell', { type: 'string', choices: SHELLS, demandOption: true }),
      async (args) => {
        process.stdout.write(completionScript(String(args.shell))); // stdout-ok: not the connect path
      },
    )
    .demandCommand(1, 'name a command');
  await cli.parseAsync();
  return exitCode;
}
