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
  cause?: unknown;
}

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

  constructor(kind: ErrorKind, message: string, details: BurrowErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BurrowError';
    this.kind = kind;
    this.hint = details.hint;
    this.proxy = details.proxy;
    this.target = details.target;
    this.said = details.said;
    this.proxyAnswer = details.proxyAnswer;
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
  const pick = <K extends keyof BurrowErrorDetails>(key: K, current: BurrowErrorDetails[K]): BurrowErrorDetails[K] => (key in patch ? patch[key] : current);
  const details: BurrowErrorDetails = {
    hint: pick('hint', error.hint),
    proxy: pick('proxy', error.proxy),
    target: pick('target', error.target),
    said: pick('said', error.said),
    proxyAnswer: pick('proxyAnswer', error.proxyAnswer),
    cause: pick('cause', error),
  };
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
