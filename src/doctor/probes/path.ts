import type { Duplex } from 'node:stream';
import { dial, type DialOptions } from '../../dial/dial.ts';
import { isBurrowError } from '../../errors.ts';
import type { ProxyEndpoint } from '../../route/proxy-url.ts';
import type { Target } from '../../route/target.ts';
import type { RoutePlan } from '../../route/plan.ts';
import type { ErrorJson, PathStatus, ProxyAnswerJson, TlsRoutingJson } from '../types.ts';

/** One way to try a target: direct (no hops) or through one candidate proxy (or chain). */
export interface Candidate {
  via: string;
  hops: ProxyEndpoint[];
  source: string;
}

export interface PathOutcome {
  status: PathStatus;
  ms: number | null;
  proxy_answer: ProxyAnswerJson | null;
  error: ErrorJson | null;
  /** The open tunnel (paused), for the service probes; the caller destroys it. */
  stream?: Duplex;
}

/**
 * Opens a tunnel to `target` along exactly this candidate, with the same dial() that `burrow connect` uses, so the
 * answer is the one the user would get. Bounded by `timeoutMs`; `signal` abandons it (run deadline, Ctrl-C).
 */
export async function probePath(target: Target, candidate: Candidate, options: DialOptions, timeoutMs: number, signal: AbortSignal): Promise<PathOutcome> {
  const started = Date.now();
  const plan = candidatePlan(target, candidate);
  try {
    const { stream } = await dial(plan, { ...options, connectTimeoutMs: timeoutMs, signal });
    if (signal.aborted) {
      stream.destroy();
      return { status: 'pending', ms: null, proxy_answer: null, error: null };
    }
    return { status: 'open', ms: Date.now() - started, proxy_answer: null, error: null, stream };
  } catch (error) {
    if (signal.aborted && !(isBurrowError(error) && !error.timedOut)) {
      // The run was stopped, or this probe's own deadline passed: both read as "no answer in time" unless the
      // dialer had already produced a real answer.
      return { status: signal.reason === 'cancelled' ? 'pending' : 'timeout', ms: null, proxy_answer: null, error: timeoutJson(timeoutMs) };
    }
    if (!isBurrowError(error)) throw error;
    const answer = error.proxyAnswer;
    const status: PathStatus = error.timedOut ? 'timeout' : error.kind === 'refused' ? 'refused' : error.kind === 'auth' ? 'auth' : 'unreachable';
    return {
      status,
      ms: null,
      proxy_answer: answer
        ? { status_code: answer.statusCode, status_line: answer.statusLine, auth_schemes: answer.authSchemes, detail: answer.detail ?? null }
        : null,
      error: { kind: error.kind, message: error.message, hint: error.hint ?? null, said: error.said ?? null, phase: error.phase ?? null, hop: error.hop?.index ?? null },
    };
  }
}

function candidatePlan(target: Target, candidate: Candidate): RoutePlan {
  return { target, alternatives: [{ hops: candidate.hops, source: { kind: 'probe' as const, text: candidate.source }, reason: 'doctor probe' }], warnings: [] };
}

/** With TLS routing on: whether Teleport's ALPN survives exactly this candidate (the check burrow tsh makes). */
export async function probeTlsRouting(target: Target, candidate: Candidate, options: DialOptions, timeoutMs: number, signal: AbortSignal): Promise<TlsRoutingJson | null> {
  const { checkTlsRouting } = await import('../../teleport/tls-routing-check.ts');
  try {
    const check = await checkTlsRouting(candidatePlan(target, candidate), options, timeoutMs, signal);
    return { conn_upgrade: check.upgrade, alpn: check.alpn, issuer: check.issuer, seen: check.seen };
  } catch {
    return null; // the path worked a moment ago; a failure here says nothing about ALPN
  }
}

function timeoutJson(ms: number): ErrorJson {
  return { kind: 'unreachable', message: `no answer within ${ms / 1000} s`, hint: null, said: 'timeout', phase: null, hop: null };
}
