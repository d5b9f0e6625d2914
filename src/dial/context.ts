import type { Socket } from 'node:net';
import type { FailurePhase } from '../errors.ts';
import type { Log } from '../log.ts';
import type { Environment } from '../route/environment.ts';
import type { AuthScheme } from './auth/session.ts';

export interface TlsOptions {
  /** Extra CA certificates (PEM) trusted for https:// proxies, on top of the system's. */
  proxyCa?: string;
  /** --proxy-insecure: skip verification of an https:// proxy's certificate. */
  insecure?: boolean;
}

export interface DialOptions {
  /** Bounds opening the tunnel: DNS, TCP, TLS and every proxy hop, all route alternatives together. */
  connectTimeoutMs: number;
  /** --alternative-timeout: each route alternative but the last, when there are several (failover). */
  alternativeTimeoutMs?: number;
  tls?: TlsOptions;
  log: Log;
  /** Abandons the dial: its sockets are destroyed and it fails as a timeout would (doctor's run bound, Ctrl-C). */
  signal?: AbortSignal;
  /** Where proxy credentials missing from a URL are looked up (BURROW_PROXY_USER, NETRC, HOME); default process.env. */
  env?: Environment;
  /** HTTP proxy authentication: --proxy-auth, and whether a 407 may prompt on /dev/tty (default: no). */
  auth?: { scheme?: AuthScheme; prompt?: boolean };
}

/**
 * State shared by the steps of one dial attempt: the sockets to destroy if it fails or times out, and the step in
 * progress, so a timeout can say what it was waiting for.
 */
export interface DialAttempt {
  options: DialOptions;
  /** The step in progress, in words for people ("connecting to proxy http://p:3128"). */
  phase: string;
  /** The same step as a fact, for the timeout error's `phase`. */
  stage: FailurePhase;
  timedOut: boolean;
  sockets: Socket[];
  signal: AbortSignal;
  /** The first socket error seen while no step was listening (kept, so no 'error' event goes unhandled). */
  error?: NodeJS.ErrnoException;
  /** Stops the attempt's clock (a person is typing a password); call the returned function to restart it. */
  pauseClock?: () => () => void;
}
