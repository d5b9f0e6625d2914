// Errors are values with a kind, an exit status, a message for people and a hint. Only the CLI entry turns them
// into an exit code (DESIGN.md: "commands never call process.exit deep inside").

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  refused: 3,
  auth: 4,
  unreachable: 5,
  broken: 6,
} as const;

export type ErrorKind = keyof typeof EXIT;

export interface BurrowErrorDetails {
  /** What to try next, in one or two sentences. */
  hint?: string;
  /** The proxy involved, already without credentials. */
  proxy?: string;
  /** The target host:port. */
  target?: string;
  /** What the peer said: an HTTP status line, a SOCKS reply, an errno. */
  said?: string;
  /** A proxy's HTTP answer to CONNECT, when there was one (for `doctor` and other tools that need the facts). */
  proxyAnswer?: ProxyAnswer;
  /** Which step of opening the tunnel failed. */
  phase?: FailurePhase;
  /** The proxy hop the failure concerns: its place in the route (0 = first) and its URL without credentials. */
  hop?: { index: number; endpoint: string };
  /** True when a time limit ran out (connect timeout, an alternative's limit, the caller's abort). */
  timedOut?: boolean;
  /** HTTP proxy authentication: the schemes the proxy offered and those burrow tried, in order. */
  auth?: { offered: string[]; tried: string[] };
  /** A SOCKS proxy's reply code (SOCKS5 REP, SOCKS4 CD) and its name (e.g. 2 "NotAllowed"). */
  socksReply?: { version: 4 | 5; code: number; name: string };
  cause?: unknown;
}

/**
 * The step of opening a tunnel that failed: reaching the target directly, reaching a proxy (DNS and TCP), TLS to
 * an https:// proxy, the connection to a proxy breaking mid-handshake, resolving the target locally for socks4://
 * or socks5://, the proxy's answer to CONNECT or to a SOCKS request, or proxy authentication.
 */
export type FailurePhase = 'target-connect' | 'proxy-connect' | 'proxy-tls' | 'proxy-closed' | 'local-resolve' | 'proxy-handshake' | 'proxy-auth';

/** The facts a BurrowError carries besides kind and message: what decisions are made on (never the text). */
const FACT_KEYS = ['hint', 'proxy', 'target', 'said', 'proxyAnswer', 'phase', 'hop', 'timedOut', 'auth', 'socksReply'] as const;

/** The structured part of a proxy's non-2xx answer to CONNECT. */
export interface ProxyAnswer {
  statusCode: number;
  statusLine: string;
  /** The schemes named by every Proxy-Authenticate header (e.g. ["Basic", "NTLM"]); empty when none. */
  authSchemes: string[];
  /** squid's X-Squid-Error header, or a Proxy-Status header, when present. */
  detail?: string;
}

export class BurrowError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly proxy: string | undefined;
  readonly target: string | undefined;
  readonly said: string | undefined;
  readonly proxyAnswer: ProxyAnswer | undefined;
  readonly phase: FailurePhase | undefined;
  readonly hop: { index: number; endpoint: string } | undefined;
  readonly timedOut: boolean | undefined;
  readonly auth: { offered: string[]; tried: string[] } | undefined;
  readonly socksReply: { version: 4 | 5; code: number; name: string } | undefined;

  constructor(kind: ErrorKind, message: string, details: BurrowErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BurrowError';
    this.kind = kind;
    this.hint = details.hint;
    this.proxy = details.proxy;
    this.target = details.target;
    this.said = details.said;
    this.proxyAnswer = details.proxyAnswer;
    this.phase = details.phase;
    this.hop = details.hop;
    this.timedOut = details.timedOut;
    this.auth = details.auth;
    this.socksReply = details.socksReply;
  }

  get exitCode(): number {
    return EXIT[this.kind];
  }
}

export function usageError(message: string, hint?: string): BurrowError {
  return new BurrowError('usage', message, hint === undefined ? {} : { hint });
}

/**
 * A copy of `error` with some details replaced: kind, message and every detail are kept unless `patch` names them
 * (a key given as undefined removes that detail); the cause is `error` itself unless the patch gives another.
 */
export function withDetails(error: BurrowError, patch: Partial<BurrowErrorDetails> & { kind?: ErrorKind; message?: string }): BurrowError {
  const details: BurrowErrorDetails = { cause: 'cause' in patch ? patch.cause : error };
  for (const key of FACT_KEYS) (details as Record<string, unknown>)[key] = key in patch ? patch[key] : error[key];
  return new BurrowError(patch.kind ?? error.kind, patch.message ?? error.message, details);
}

export function isBurrowError(error: unknown): error is BurrowError {
  return error instanceof BurrowError;
}

/** The exit status for anything thrown: a BurrowError's own, else "internal error". */
export function exitCodeOf(error: unknown): number {
  return isBurrowError(error) ? error.exitCode : EXIT.internal;
}

/**
 * One line for people, the message then the hint: ssh shows a ProxyCommand's stderr as is, and one line per failure
 * keeps it readable among ssh's own messages and greppable in logs.
 */
export function describeError(error: unknown): string {
  if (isBurrowError(error)) {
    return error.hint ? `${error.message}; hint: ${error.hint}` : error.message;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `internal error (please report it): ${text}`;
}
