import type { Duplex } from 'node:stream';
import { withPlanCredentials } from '../credentials/config.ts';
import type { DialOptions } from '../dial/dial.ts';
import { displayProxy, hasCredentials, formatHops } from '../route/proxy-url.ts';
import { planToJson, sourceText, type RoutePlan } from '../route/plan.ts';
import { resolveRoute, type RouteOptions } from '../route/policy.ts';
import { formatTarget, parseHostPort, type Target } from '../route/target.ts';
import { VERSION } from '../version.ts';
import { bounded, ProbeStopped } from './bounded.ts';
import { DIRECT } from './candidates.ts';
import { conclude, type ConclusionContext } from './conclusions.ts';
import { probeDns } from './probes/dns.ts';
import { probeHttpCheck } from './probes/http-check.ts';
import { probePath, probeTlsRouting, type Candidate } from './probes/path.ts';
import { loadKnownHosts, probeService } from './service.ts';
import type { DoctorReport, HttpCheckJson, PathJson, TargetJson } from './types.ts';

// Orchestration: every probe starts at once, each under its own deadline (probeTimeoutMs), all under the run's
// deadline (runTimeoutMs) and the caller's signal (Ctrl-C). The report is a plain object that probes fill in as they
// finish, so whatever is known when the run stops can be printed: unfinished entries keep the status "pending".

export interface DoctorInput {
  targets: Target[];
  /** Proxies (or chains) to try besides direct. */
  candidates: Candidate[];
  routeOptions: RouteOptions;
  dialOptions: DialOptions;
  probeTimeoutMs: number;
  runTimeoutMs: number;
  knownHostsFile: string;
  /** Extra CA certificates (PEM) trusted when checking targets' TLS certificates. */
  extraCa?: string;
  httpChecks: URL[];
  /** Ctrl-C. */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  context?: ConclusionContext;
}

export type ProgressEvent =
  | { kind: 'start'; total: number }
  | { kind: 'done'; what: string; result: string; finished: number; total: number };

/** The route burrow takes, with the config file's credentials looked up (doctor reports whether a hop has them). */
async function planFor(target: Target, input: DoctorInput): Promise<RoutePlan> {
  return withPlanCredentials(await resolveRoute(target, input.routeOptions), input.routeOptions.env);
}

export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  // First, before any probe or timer starts: a bad proxy URL, config file or PAC file is a usage error (exit 2).
  const plans = await Promise.all(input.targets.map((target) => planFor(target, input)));
  const report: DoctorReport = {
    burrow: VERSION,
    complete: false,
    stopped: null,
    proxies: input.candidates.map((c) => ({ via: c.via, hops: c.hops.map(displayProxy), source: c.source })),
    targets: [],
    http_checks: [],
    conclusions: [],
    exit_code: 0,
  };
  const run = new AbortController();
  const runTimer = setTimeout(() => run.abort('timeout'), input.runTimeoutMs);
  const onInterrupt = () => run.abort('interrupted');
  if (input.signal?.aborted) onInterrupt();
  input.signal?.addEventListener('abort', onInterrupt, { once: true });

  const knownHosts = loadKnownHosts(input.knownHostsFile);
  const pending = new Set<Promise<void>>();
  let total = 0;
  let finished = 0;
  const task = (what: string, work: () => Promise<string>) => {
    total++;
    const promise = work().then(
      (result) => {
        finished++;
        input.onProgress?.({ kind: 'done', what, result, finished, total });
      },
      (error: unknown) => {
        finished++;
        if (!(error instanceof ProbeStopped)) input.onProgress?.({ kind: 'done', what, result: `error: ${String(error)}`, finished, total });
      },
    );
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };

  // Routes are resolved before a target is added (resolveRoute is async: a PAC file may be evaluated).
  const addTarget = (target: Target, derivedFrom: string | null, plan: RoutePlan) => {
    const name = formatTarget(target);
    if (report.targets.some((t) => t.target === name)) return;
    const routeHops = formatHops(plan.alternatives[0]?.hops ?? []);
    const entry: TargetJson = {
      target: name,
      host: target.host,
      port: target.port,
      derived_from: derivedFrom,
      route: { plan: planToJson(plan).plan, warnings: plan.warnings },
      dns: { status: 'pending', addresses: [], error: null },
      paths: [],
      reachable: false,
    };
    report.targets.push(entry);
    task(`${name} DNS`, async () => {
      entry.dns = await bounded((signal) => probeDns(target.host, signal), input.probeTimeoutMs, run.signal).catch((error: unknown) => {
        if (error instanceof ProbeStopped && error.reason === 'timeout') return { status: 'timeout' as const, addresses: [], error: 'timeout' };
        throw error;
      });
      return entry.dns.status === 'failed' ? `failed (${entry.dns.error})` : entry.dns.addresses.join(', ') || entry.dns.status;
    });
    const candidates = [DIRECT, ...input.candidates];
    // A config rule or a PAC answer may name proxies that no flag or variable does: try those too.
    for (const alternative of plan.alternatives) {
      const via = formatHops(alternative.hops);
      if (via !== 'direct' && !candidates.some((c) => c.via === via)) candidates.push({ via, hops: alternative.hops, source: sourceText(alternative.source) });
    }
    // The route's path is always tried, even when it is not among the candidates (it always is today).
    for (const candidate of candidates) {
      const path: PathJson = {
        via: candidate.via,
        hops: candidate.hops.map(displayProxy),
        source: candidate.source,
        in_route: candidate.via === routeHops,
        credentials: candidate.hops.some(hasCredentials),
        status: 'pending',
        ms: null,
        proxy_answer: null,
        error: null,
        service: null,
      };
      entry.paths.push(path);
      task(`${name} via ${candidate.via}`, async () => {
        await probeOnePath(target, candidate, path, (address) => addDerived(address, name));
        return describePath(path);
      });
    }
  };

  const addDerived = (address: string, from: string) => {
    if (run.signal.aborted) return;
    let target: Target;
    try {
      target = parseHostPort(address);
    } catch {
      return; // an address we cannot parse is reported in the Teleport section only
    }
    const adding = planFor(target, input).then(
      (plan) => {
        if (!run.signal.aborted) addTarget(target, `${from} (Teleport SSH address)`, plan);
      },
      () => {
        // a route that cannot be resolved for a derived address: the Teleport section still shows the address
      },
    );
    pending.add(adding);
    void adding.finally(() => pending.delete(adding));
  };

  const probeOnePath = async (target: Target, candidate: Candidate, path: PathJson, onTeleportSsh: (address: string) => void) => {
    let stream: Duplex | undefined;
    try {
      const outcome = await bounded((signal) => probePath(target, candidate, input.dialOptions, input.probeTimeoutMs, signal), input.probeTimeoutMs + 1000, run.signal);
      path.status = outcome.status;
      path.ms = outcome.ms;
      path.proxy_answer = outcome.proxy_answer;
      path.error = outcome.error;
      stream = outcome.stream;
      if (!stream) return;
      path.service = await probeService(stream, target, knownHosts, { ...input, ...(input.dialOptions.env ? { env: input.dialOptions.env } : {}) }, run.signal);
      if (path.service.teleport?.tls_routing_enabled && candidate.hops.length > 0) {
        path.service.tls_routing = await probeTlsRouting(target, candidate, input.dialOptions, input.probeTimeoutMs, run.signal);
      }
      const address = path.service.teleport?.ssh_address;
      if (address && !path.service.teleport?.tls_routing_enabled && address !== formatTarget(target)) onTeleportSsh(address);
    } catch (error) {
      if (error instanceof ProbeStopped) {
        if (path.status === 'pending' && error.reason === 'timeout') {
          path.status = 'timeout';
          path.error = { kind: 'unreachable', message: `no answer within ${input.probeTimeoutMs / 1000} s`, hint: null, said: 'timeout', phase: null, hop: null };
        }
        return;
      }
      throw error;
    } finally {
      stream?.destroy();
    }
  };

  for (const url of input.httpChecks) {
    const check: HttpCheckJson = { url: url.href, paths: [], reachable: false };
    report.http_checks.push(check);
    for (const candidate of [DIRECT, ...input.candidates]) {
      const index = check.paths.length;
      check.paths.push({ via: candidate.via, source: candidate.source, status: 'pending', status_code: null, status_line: null, headers: {}, error: null });
      task(`${url.href} via ${candidate.via}`, async () => {
        const result = await bounded((signal) => probeHttpCheck(url, candidate, { ...input.dialOptions, connectTimeoutMs: input.probeTimeoutMs }, signal), input.probeTimeoutMs, run.signal).catch((error: unknown) => {
          if (error instanceof ProbeStopped && error.reason === 'timeout') return { ...check.paths[index]!, status: 'timeout' as const, error: 'no answer in time' };
          throw error;
        });
        check.paths[index] = result;
        return result.status_line ?? result.error ?? result.status;
      });
    }
  }

  input.targets.forEach((target, i) => addTarget(target, null, plans[i]!));
  input.onProgress?.({ kind: 'start', total });

  const stopped = new Promise<void>((resolve) => run.signal.addEventListener('abort', () => resolve(), { once: true }));
  while (pending.size > 0 && !run.signal.aborted) {
    await Promise.race([Promise.all([...pending]), stopped]);
  }
  clearTimeout(runTimer);
  input.signal?.removeEventListener('abort', onInterrupt);
  if (run.signal.aborted) {
    report.stopped = run.signal.reason === 'interrupted' ? 'interrupted' : 'timeout';
  } else {
    report.complete = true;
  }
  // Stop whatever is still running: probes destroy their sockets on this signal.
  run.abort('cancelled');

  for (const target of report.targets) target.reachable = target.paths.some((p) => p.status === 'open');
  for (const check of report.http_checks) check.reachable = check.paths.some(httpCheckReached);
  report.conclusions = conclude(report, input.context ?? {});
  const allReachable = report.targets.every((t) => t.reachable) && report.http_checks.every((c) => c.reachable);
  report.exit_code = allReachable ? 0 : 5;
  return report;
}

/** An http check reached the origin when some path got an answer that is not the proxy's own refusal. */
export function httpCheckReached(path: HttpCheckJson['paths'][number]): boolean {
  if (path.status !== 'ok' || path.status_code === null) return false;
  if (path.status_code === 407 || path.status_code >= 500) return false;
  return path.headers['x-squid-error'] === undefined;
}

/** One short line per path for the progress display. */
export function describePath(path: PathJson): string {
  if (path.status === 'open') {
    const s = path.service;
    const what = !s ? '' : s.protocol === 'ssh' ? ` ${s.ssh?.banner ?? ''}` : s.protocol === 'tls' ? ` TLS ${s.tls?.certificate?.issuer_name ?? ''}` : ` ${s.protocol}`;
    return `open${what}`;
  }
  if (path.proxy_answer) return `${path.status} (${path.proxy_answer.status_line})`;
  return `${path.status}${path.error?.said ? ` (${path.error.said})` : ''}`;
}
