import type { Socket } from 'node:net';
import type { FailurePhase } from '../errors.ts';
import type { Log } from '../log.ts';
import type { ProxyHeader } from '../route/proxy-headers.ts';
import type { Environment } from '../route/environment.ts';
import type { AuthScheme } from './auth/session.ts';
import type { ReadMode } from './socket-reads.ts';

export interface TlsOptions {
  /** Extra CA certificates (PEM) trusted for https:// proxies, on top of the system's. */
  proxyCa?: string;
  /** --proxy-insecure: skip verification of an https:// proxy's certificate. */
  insecure?: boolean;
}

/**
 * A plain-HTTP request for an HTTP proxy (absolute-form), with the same 407 negotiation, credentials and errors as
 * CONNECT: dial() sends it instead of CONNECT when asked to forward one request (`burrow forward --http`, the exec
 * bridge). The proxy's answer — whatever it is but a 407 — belongs to the client: it is pushed back, whole, into the
 * returned stream. A request with a body is not waited on (its body must flow first), except for a leg that only
 * asks for the proxy's challenge (NTLM's first message), which is sent without the body, as curl does.
 */
export interface ForwardRequest {
  method: string;
  /** The absolute URL (Digest signs it). */
  url: string;
  hasBody: boolean;
  /**
   * The head for an upstream HTTP proxy, with this Proxy-Authorization. `challengeLeg`: only the proxy's challenge
   * is wanted (no body, keep the connection); otherwise the head asks to close after the answer.
   */
  proxyHead(authorization: string | undefined, challengeLeg: boolean): string;
  /** The origin-form head, sent through a tunnel when the route does not end at an http:// proxy. */
  originHead(): string;
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
  /** Instead of a tunnel, one plain-HTTP request (`forward --http`, the exec bridge); see ForwardRequest. */
  forward?: ForwardRequest;
  /** --proxy-header and the config's headers:, sent with every CONNECT and plain-HTTP request to a proxy. */
  proxyHeaders?: readonly ProxyHeader[];
  /** --fresh: ignore what earlier runs remembered (proxies that failed, credentials a proxy rejected). */
  fresh?: boolean;
  /** HTTP proxy authentication: --proxy-auth, and whether a 407 may prompt on /dev/tty (default: no). */
  auth?: { scheme?: AuthScheme; prompt?: boolean };
  /**
   * How the tunnel socket reads (src/dial/socket-reads.ts), for `connect`: 'bounded' never reads past the proxy's
   * answer (the socket is handed to ssh: --fdpass); 'reused' reads into one buffer that the relay then takes over.
   * Applies to routes without a TLS hop; others read as plain streams.
   */
  reads?: ReadMode;
  /** Told, for each HTTP proxy hop that accepted a CONNECT, what authentication it took (burrow tsh remembers it). */
  onProxyAuth?: (fact: ProxyAuthFact) => void;
}

/** What an HTTP proxy demanded before it accepted a CONNECT. */
export interface ProxyAuthFact {
  /** The proxy as displayProxy() shows it (no credentials). */
  proxy: string;
  /** The scheme of the accepted request's Proxy-Authorization ('none': the proxy asked for nothing). */
  scheme: AuthScheme | 'none';
  /** Whether the proxy answered 407 before accepting (Basic sent up front and accepted at once: false). */
  challenged: boolean;
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
  /** options.reads where this alternative's tunnel is a plain TCP socket (no TLS hop). */
  reads?: ReadMode;
}
