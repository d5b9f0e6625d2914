import { describeError, exitCodeOf } from '../errors.ts';
import { createLog, type Log } from '../log.ts';
import { runConnect } from './commands/connect.ts';

// Fast dispatch: `connect` (the ProxyCommand, started once per ssh session) is bundled into this entry and parses
// its argv with node:util; every other command is a lazily imported chunk that loads yargs.

const USAGE = `burrow — take ssh, tsh and any TCP client through HTTP and SOCKS proxies

usage:
  burrow connect HOST PORT [options]     stdin/stdout <-> HOST:PORT (ProxyCommand burrow connect %h %p)
  burrow route HOST PORT [--json]        which route burrow would take to HOST:PORT, and why
  burrow doctor HOST[:PORT]... [--json]  what is reachable, direct and through each proxy, and what to use
  burrow forward -L [BIND:]PORT:HOST:HOSTPORT | -D [BIND:]PORT | --http [BIND:]PORT ...
                                         port forwards and local SOCKS/HTTP proxies through the route
  burrow exec [options] -- CMD [ARGS...]  run CMD with its traffic through the route (ssh, git, curl, ...)
  burrow tsh [options] -- [TSH ARGS...]  run Teleport's tsh through the route
  burrow ssh-config HOST... [--teleport CLUSTER] [--write]
                                         ~/.ssh/config blocks that use burrow
  burrow --help | --version

Run "burrow COMMAND --help" for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  // Credentials passed with --proxy would otherwise stay readable in /proc/PID/cmdline for the whole session.
  process.title = command ? `burrow ${command}` : 'burrow';
  let log: Log = createLog();
  try {
    switch (command) {
      case 'connect':
        return await runConnect(argv.slice(1), (l) => (log = l));
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stderr.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-V': {
        const { VERSION } = await import('../version.ts');
        process.stdout.write(`${VERSION}\n`); // stdout-ok: not the connect path
        return 0;
      }
      default: {
        const { runYargsCli } = await import('./yargs-cli.ts');
        return await runYargsCli(argv, (l) => (log = l));
      }
    }
  } catch (error) {
    log.error(describeError(error));
    return exitCodeOf(error);
  } finally {
    log.flush();
  }
}

// Let stdout and the log drain instead of process.exit() (REFERENCE.md §4).
let settled = false;
// If the event loop ever drains while a command is still pending (a peer that went away without a sound and nothing
// left to wait on), that is a bug: say so and fail, rather than exit 0 as if the tunnel had closed normally.
process.once('beforeExit', () => {
  if (settled) return;
  process.stderr.write('burrow: internal error (please report it): nothing left to wait for, but the command did not finish\n');
  process.exitCode = 1;
});
main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    settled = true;
    process.stderr.write(`burrow: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
