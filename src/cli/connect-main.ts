import { runConnect } from './commands/connect.ts';
import { runCommand } from './run.ts';

// `burrow connect` as one CommonJS file (dist/connect.cjs) that bin/burrow require()s: Node 20 then never starts its
// ESM loader, about 10 ms of every ssh session's start (bench/: 45 -> 36 ms from spawn to the accept through squid).
runCommand('burrow connect', (setLog) => runConnect(process.argv.slice(3), setLog));
