import { describeError, exitCodeOf } from '../errors.ts';
import { createLog, type Log } from '../log.ts';

export type CommandBody = (setLog: (log: Log) => void) => Promise<number>;

/**
 * Runs one command the way every entry point must: a process title without the arguments, errors mapped to exit
 * codes in one place, the log flushed, and exitCode set instead of process.exit() so that stdout and the log drain
 * (REFERENCE.md §4). Shared by the ESM entry (main.ts) and the CommonJS ProxyCommand entry (connect-main.ts).
 */
export function runCommand(title: string, body: CommandBody): void {
  // Credentials passed with --proxy would otherwise stay readable in /proc/PID/cmdline for the whole session.
  process.title = title;
  let log: Log = createLog();
  let settled = false;
  // If the event loop ever drains while a command is still pending (a peer that went away without a sound and
  // nothing left to wait on), that is a bug: say so and fail, rather than exit 0 as if the tunnel had closed normally.
  process.once('beforeExit', () => {
    if (settled) return;
    process.stderr.write('burrow: internal error (please report it): nothing left to wait for, but the command did not finish\n');
    process.exitCode = 1;
  });
  body((l) => (log = l))
    .catch((error: unknown) => {
      log.error(describeError(error));
      return exitCodeOf(error);
    })
    .then(
      (code) => {
        settled = true;
        process.exitCode = code;
        log.flush();
      },
      (error: unknown) => {
        settled = true;
        process.stderr.write(`burrow: ${describeError(error)}\n`);
        process.exitCode = 1;
      },
    );
}
