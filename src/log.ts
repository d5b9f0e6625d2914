import { openLogFile } from './log-file.ts';
import { requirePino } from './runtime/packages.ts';
import { maskSecrets } from './secrets.ts';

// The logger: pino, loaded only when a line at an enabled level is actually written, so a quiet, successful
// `burrow connect` never pays pino's ~35 ms load (REFERENCE.md §4). Never stdout: in `connect` stdout is the tunnel,
// and pino with no destination writes to stdout, so every destination here is fd 2 or a file.

export type Level = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type Fields = Record<string, unknown>;

export interface Log {
  error(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  debug(message: string, fields?: Fields): void;
  trace(message: string, fields?: Fields): void;
  enabled(level: Level): boolean;
  /** Writes out anything buffered; call before exiting. */
  flush(): void;
}

export interface LogOptions {
  /** Number of -v flags. */
  verbosity?: number;
  quiet?: boolean;
  logFile?: string;
  format?: 'pretty' | 'json';
  /** Prefix of pretty lines on stderr. */
  name?: string;
}

const RANK: Record<Level, number> = { error: 50, warn: 40, info: 30, debug: 20, trace: 10 };
const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function levelFor(verbosity: number, quiet: boolean): Level {
  if (quiet) return 'error';
  return (['warn', 'info', 'debug', 'trace'] as const)[Math.min(Math.max(verbosity, 0), 3)]!;
}

interface PinoLike {
  [level: string]: unknown;
  flush?: () => void;
}

export function createLog(options: LogOptions = {}): Log {
  const level = levelFor(options.verbosity ?? 0, options.quiet ?? false);
  // With a log file, the file gets the chosen verbosity (at least info) and stderr keeps only what a person must
  // read; without one, stderr gets everything enabled.
  const stderrLevel: Level = options.logFile ? (options.quiet ? 'error' : 'warn') : level;
  const fileLevel: Level = options.logFile ? (RANK[level] < RANK.info ? level : 'info') : 'error';
  const lowest = Math.min(RANK[stderrLevel], options.logFile ? RANK[fileLevel] : Infinity);
  let pino: PinoLike | undefined;
  // Opened now, not when the first line is logged: a refused path is a usage error before anything is dialed.
  const logFd = options.logFile ? openLogFile(options.logFile) : undefined;

  const load = (): PinoLike => {
    if (pino) return pino;
    const pinoModule = requirePino();
    const factory = pinoModule.default ?? pinoModule;
    const stderr = options.format === 'json' ? pinoModule.destination({ dest: 2, sync: true }) : prettyStream(options.name ?? 'burrow');
    const streams: Array<{ level: Level; stream: NodeJS.WritableStream | { write(s: string): void } }> = [{ level: stderrLevel, stream: stderr }];
    if (logFd !== undefined) {
      streams.push({ level: fileLevel, stream: pinoModule.destination({ dest: logFd, sync: true }) });
    }
    pino = factory(
      {
        level: (Object.keys(RANK) as Level[]).find((l) => RANK[l] === lowest) ?? 'warn',
        base: { pid: process.pid },
        // The last line of defence: whatever a caller put in a message or a field, no registered secret and no URL
        // userinfo leaves the process.
        hooks: { streamWrite: (line: string) => maskSecrets(line) },
      },
      pinoModule.multistream(streams as Parameters<typeof pinoModule.multistream>[0]),
    ) as unknown as PinoLike;
    return pino;
  };

  const emit = (lvl: Level) => (message: string, fields?: Fields) => {
    if (RANK[lvl] < lowest) return;
    const logger = load();
    (logger[lvl] as (fields: Fields, message: string) => void).call(logger, fields ?? {}, message);
  };

  return {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    trace: emit('trace'),
    enabled: (lvl) => RANK[lvl] >= lowest,
    flush: () => pino?.flush?.(),
  };
}

// Human-readable lines for stderr: "burrow: message" for warnings and errors, "burrow[debug]: message key=value"
// for the rest. pino hands us its JSON line; we reformat it and write synchronously so nothing is lost on exit.
function prettyStream(name: string): { write(line: string): void } {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        writeStderr(line);
        return;
      }
      const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...rest } = record;
      const levelName = LEVEL_NAMES[Number(level)] ?? 'info';
      const prefix = levelName === 'error' || levelName === 'fatal' ? `${name}: ` : levelName === 'warn' ? `${name}: warning: ` : `${name}[${levelName}]: `;
      const extra = Object.entries(rest)
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      // Masked again: a secret with a quote or backslash in it was JSON-escaped in the line pino masked.
      writeStderr(maskSecrets(`${prefix}${String(msg ?? '')}${extra ? ` ${extra}` : ''}\n`));
    },
  };
}

function writeStderr(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // stderr gone (ssh already closed it): nothing left to tell anyone
  }
}
