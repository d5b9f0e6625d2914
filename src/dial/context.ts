import type { Socket } from 'node:net';
import type { Log } from '../log.ts';
import type { Environment } from '../route/environment.ts';

export interface TlsOptions {
  /** Extra CA certificates (PEM) trusted for https:// proxies, on top of the system's. */
  proxyCa?: string;
  /** --proxy-insecure: skip verification of an https:// proxy's certificate. */
  insecure?: boolean;
}

export interface DialOptions {
  /** Bounds the whole handshake of one alternative: DNS, TCP, TLS and every proxy hop. */
  connectTimeoutMs: number;
  tls?: TlsOptions;
  log: Log;
  /** Abandons the dial: its sockets are destroyed and it fails as a timeout would (doctor's run bound, Ctrl-C). */
  signal?: AbortSignal;
  /** Where proxy credentials missing from a URL are looked up (BURROW_PROXY_USER, NETRC, HOME); default process.env. */
  env?: Environment;
}

/**
 * State shared by the steps of one dial attempt: the sockets to destroy if it fails or times out, and the step in
 * progress, so a timeout can say what it was waiting for.
 */
export interface DialAttempt {
  options: DialOptions;
  phase: string;
  timedOut: boolean;
  sockets: Socket[];
  signal: AbortSignal;
}
