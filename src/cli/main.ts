import { runCommand } from './run.ts';

// The ESM entry for every command but the ProxyCommand (bin/burrow sends `connect` to the CommonJS bundle built from
// connect-main.ts). Each command is a lazily imported chunk; only these load yargs.

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
  burrow completion bash|zsh|fish        a shell completion script (source <(burrow completion bash))
  burrow --help | --version

Run "burrow COMMAND --help" for a command's options.`;

const argv = process.argv.slice(2);
const command = argv[0];
runCommand(command ? `burrow ${command}` : 'burrow', async (setLog) => {
  switch (command) {
    case 'connect': {
      // bin/burrow sends `connect` to dist/connect.cjs; this path serves `node dist/burrow.mjs connect`.
      const { runConnect } = await import('./commands/connect.ts');
      return runConnect(argv.slice(1), setLog);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stderr.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    case '--version':
    case '-V': {
      const { versionText } = await import('../runtime/install.ts');
      process.stdout.write(`${versionText()}\n`); // stdout-ok: not the connect path
      return 0;
    }
    default: {
      const { runYargsCli } = await import('./yargs-cli.ts');
      return runYargsCli(argv, setLog);
    }
  }
});
