import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { usageError } from '../../errors.ts';
import { readVariable } from '../../route/environment.ts';
import { parseHostPort, type Target } from '../../route/target.ts';
import { proxyCandidates } from '../../doctor/candidates.ts';
import { COLOUR, PLAIN, renderReport } from '../../doctor/report.ts';
import { runDoctor, type ProgressEvent } from '../../doctor/run.ts';
import { routeAndDialFrom, type CommonValues, type CommandContext } from '../options.ts';

export const DEFAULT_DOCTOR_PORT = 22;
export const DEFAULT_RUN_TIMEOUT_SECONDS = 30;
export const DEFAULT_PROBE_TIMEOUT_SECONDS = 10;

export interface DoctorArgs {
  targets: string[];
  json: boolean;
  timeout?: string | number;
  knownHosts?: string;
  ca?: string;
  httpCheck: string[];
}

/** HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 literal; the port defaults to 22. */
export function parseDoctorTarget(text: string): Target {
  return parseHostPort(text, DEFAULT_DOCTOR_PORT);
}

function seconds(text: string | number | undefined, fallback: number, option: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 3600) throw usageError(`${option} must be a number of seconds from 0 to 3600, not "${text}"`);
  return value;
}

export async function runDoctorCommand(args: DoctorArgs, context: CommandContext): Promise<number> {
  const values: CommonValues = context.values;
  if (args.targets.length === 0) {
    throw usageError('doctor needs at least one target', 'burrow doctor HOST[:PORT] ... (the port defaults to 22), e.g. burrow doctor jump.example.org:22 jump.example.org:443');
  }
  const targets = args.targets.map(parseDoctorTarget);
  const httpChecks = args.httpCheck.map((text) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw usageError(`--http-check "${text}" is not a URL`);
    }
    if (url.protocol !== 'http:') throw usageError(`--http-check takes http:// URLs, not "${url.protocol}//"`, 'for an https:// site give HOST:443 as a target: doctor reads its certificate');
    return url;
  });
  const env = process.env;
  const { routeOptions, policy, dialOptions } = await routeAndDialFrom(values, env, context.log);
  const candidates = await proxyCandidates(policy);
  const probeSeconds = values['connect-timeout'] === undefined ? DEFAULT_PROBE_TIMEOUT_SECONDS : dialOptions.connectTimeoutMs / 1000;
  const runSeconds = seconds(args.timeout, DEFAULT_RUN_TIMEOUT_SECONDS, '--timeout');
  let extraCa: string | undefined;
  if (args.ca) {
    try {
      extraCa = readFileSync(args.ca, 'utf8');
    } catch (error) {
      throw usageError(`cannot read --ca ${args.ca}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const noProxy = values['no-proxy'] !== undefined ? { name: '--no-proxy', value: values['no-proxy'] } : readVariable(env, 'NO_PROXY', []);

  const passwords = candidates.flatMap((c) => c.hops.map((h) => h.password)).filter((p): p is string => p !== undefined && p.length >= 3);
  const mask = (text: string) => passwords.reduce((out, p) => out.split(p).join('***').split(encodeURIComponent(p)).join('***'), text);
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  const progress = progressPrinter(!values.quiet, mask);
  try {
    const report = await runDoctor({
      targets,
      candidates,
      routeOptions,
      dialOptions,
      probeTimeoutMs: Math.round(probeSeconds * 1000),
      runTimeoutMs: Math.round(runSeconds * 1000),
      knownHostsFile: args.knownHosts ?? join(homedir(), '.ssh', 'known_hosts'),
      ...(extraCa ? { extraCa } : {}),
      httpChecks,
      signal: interrupt.signal,
      onProgress: progress.event,
      ...(noProxy ? { context: { noProxy } } : {}),
    });
    progress.end();
    const colour = !args.json && process.stdout.isTTY === true && !process.env.NO_COLOR;
    const text = args.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, colour ? COLOUR : PLAIN);
    // Credentials never reach the report; masking the passwords doctor knows is the last line of defence. (Not the
    // log's maskSecrets: it would also turn the advice's "USER:PASSWORD@" placeholders into "***@".)
    process.stdout.write(mask(text)); // stdout-ok: doctor's report
    return report.stopped === 'interrupted' ? 130 : report.exit_code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Progress on stderr: a rewritten status line on a terminal, one line per finished probe otherwise; -q silences it. */
function progressPrinter(enabled: boolean, mask: (text: string) => string) {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const write = (text: string) => {
    try {
      process.stderr.write(text);
    } catch {
      // stderr gone: nothing to tell
    }
  };
  return {
    event: (event: ProgressEvent) => {
      if (!enabled) return;
      if (event.kind === 'start') {
        write(tty ? `\rdoctor: ${event.total} probes running…\x1b[K` : `doctor: ${event.total} probes running (Ctrl-C prints what is known so far)\n`);
        shown = true;
        return;
      }
      const line = mask(`[${event.finished}/${event.total}] ${event.what}: ${event.result}`);
      if (tty) write(`\rdoctor: ${line.slice(0, (process.stderr.columns || 100) - 10)}\x1b[K`);
      else write(`doctor: ${line}\n`);
    },
    end: () => {
      if (tty && shown) write('\r\x1b[K');
    },
  };
}
