import type { PlanJson } from '../route/plan.ts';
import type { TrustAnchor } from '../trust/trust-store.ts';
// The doctor's report: plain data, filled in by the probes as they finish, read by conclusions.ts, report.ts and the
// --json printer. Field names here are the --json contract (README "burrow doctor"): snake_case, additive changes only.

import type { TeleportJson } from '../teleport/ping-answer.ts';

export type PathStatus =
  /** The tunnel opened: TCP direct, or the proxy said 2xx / SOCKS granted. */
  | 'open'
  /** The proxy said no: 403, 5xx, a SOCKS rule set, not an HTTP answer. */
  | 'refused'
  /** The proxy wants (other) credentials: 407, SOCKS auth failure. */
  | 'auth'
  /** DNS, connection refused, host unreachable, TLS to the proxy. */
  | 'unreachable'
  /** No answer within the probe's time limit. */
  | 'timeout'
  /** Not finished when the run ended (--timeout or Ctrl-C). */
  | 'pending';

export interface ProxyAnswerJson {
  status_code: number;
  status_line: string;
  auth_schemes: string[];
  /** X-Squid-Error or Proxy-Status. */
  detail: string | null;
}

export interface ErrorJson {
  kind: string;
  message: string;
  hint: string | null;
  said: string | null;
  /** Which step failed (BurrowError.phase: "proxy-connect", "proxy-tls", "proxy-handshake", "proxy-auth", ...). */
  phase: string | null;
  /** The proxy hop it concerns, 0 for the first; null when none (direct, or unknown). */
  hop: number | null;
}

export interface KnownHostsJson {
  /** match: a line has this key; mismatch: lines for this host hold another key of the same type (interception, or a
   * re-installed server); other_type: the host is known only with other key types; unknown: no line for the host;
   * revoked: the key is marked @revoked; unreadable: the file could not be read. */
  status: 'match' | 'mismatch' | 'other_type' | 'unknown' | 'revoked' | 'unreadable';
  file: string;
  /** 1-based line of the matching (or conflicting) entry. */
  line: number | null;
  /** SHA256 fingerprints of the keys known for this host and type, when they differ. */
  known_fingerprints: string[];
}

export interface SshJson {
  banner: string;
  host_key: { type: string; fingerprint: string } | null;
  known_hosts: KnownHostsJson | null;
  /** Why the host key could not be read, if it could not. */
  error: string | null;
}

export interface CertificateJson {
  subject: string;
  issuer: string;
  /** The issuer's CN (or O) alone: what a person recognises ("Zscaler Root CA"). */
  issuer_name: string;
  valid_to: string;
  fingerprint256: string;
  /** Verified against burrow's trust store (Node's roots, the system's, NODE_EXTRA_CA_CERTS, --ca) and the target name. */
  verified: boolean;
  verify_error: string | null;
  /** The CA of the store that vouched for it, and which part of the store holds that CA; null when not verified. */
  trusted_by: TrustAnchor | null;
}

export interface TlsJson {
  certificate: CertificateJson | null;
  protocol: string | null;
  alpn: string | null;
  error: string | null;
}

// The ping answer's shape belongs to src/teleport/ (tsh's SSH-port check reads it too).
export type { TeleportJson };

export interface ServiceJson {
  /** ssh: the server spoke "SSH-"; tls: a TLS handshake succeeded; other: the server spoke something else first;
   * silent: nothing came back and TLS failed or timed out; closed: the tunnel closed at once. */
  protocol: 'ssh' | 'tls' | 'other' | 'silent' | 'closed';
  /** The first line the server sent, when it spoke first and it was not SSH (printable, at most 100 characters). */
  first_line: string | null;
  ssh: SshJson | null;
  tls: TlsJson | null;
  teleport: TeleportJson | null;
  /** With TLS routing on, through a proxy: whether Teleport's ALPN survives this path (tsh needs the upgrade if not). */
  tls_routing?: TlsRoutingJson | null;
}

export interface TlsRoutingJson {
  conn_upgrade: boolean;
  /** The ALPN protocol agreed when offered teleport-proxy-ssh (null: none). */
  alpn: string | null;
  issuer: string;
  seen: string;
}

export interface PathJson {
  /** "direct", or the proxies without credentials joined by " -> ". */
  via: string;
  hops: string[];
  /** Where this candidate comes from: "direct", "--proxy", "BURROW_PROXY", "HTTPS_PROXY", ... */
  source: string;
  /** True for the path `burrow connect` would take (the route's first alternative). */
  in_route: boolean;
  /** Whether credentials were configured for this path's proxies (never the credentials themselves). */
  credentials: boolean;
  status: PathStatus;
  /** Milliseconds to open the tunnel (for people; varies between runs). */
  ms: number | null;
  proxy_answer: ProxyAnswerJson | null;
  error: ErrorJson | null;
  service: ServiceJson | null;
}

export interface DnsJson {
  status: 'ok' | 'failed' | 'literal' | 'timeout' | 'pending';
  addresses: string[];
  error: string | null;
}

export interface TargetJson {
  target: string;
  host: string;
  port: number;
  /** Set when doctor added this target itself (a Teleport proxy's SSH address). */
  derived_from: string | null;
  /** As `burrow route --json` shows it; `decided_by` is what conclusions decide on. */
  route: Pick<PlanJson, 'plan' | 'warnings'>;
  dns: DnsJson;
  paths: PathJson[];
  /** Some path opened. */
  reachable: boolean;
}

export interface HttpCheckPathJson {
  via: string;
  source: string;
  status: 'ok' | 'failed' | 'timeout' | 'skipped' | 'pending';
  status_code: number | null;
  status_line: string | null;
  /** Via / Server / X-Squid-Error headers that say who answered. */
  headers: Record<string, string>;
  error: string | null;
}

export interface HttpCheckJson {
  url: string;
  paths: HttpCheckPathJson[];
  reachable: boolean;
}

export interface ConclusionJson {
  /** Stable identifier of the kind of finding, e.g. "use-no-proxy", "proxy-needs-ntlm". */
  code: string;
  severity: 'ok' | 'info' | 'warning' | 'problem';
  /** The target (host:port) or URL it concerns, or null for the whole setup. */
  target: string | null;
  text: string;
  /** The exact lines to put in the environment or ~/.ssh/config. */
  lines: string[];
}

export interface CandidateJson {
  via: string;
  hops: string[];
  source: string;
}

export interface DoctorReport {
  burrow: string;
  /** false when the run ended before every probe finished. */
  complete: boolean;
  /** "timeout" (--timeout) or "interrupted" (Ctrl-C) when incomplete, else null. */
  stopped: 'timeout' | 'interrupted' | null;
  proxies: CandidateJson[];
  targets: TargetJson[];
  http_checks: HttpCheckJson[];
  conclusions: ConclusionJson[];
  exit_code: number;
}
