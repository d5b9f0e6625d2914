import { describeOrigins } from '../trust/trust-store.ts';
import { knownHostsName } from './known-hosts.ts';
import type { ConclusionJson, DoctorReport, PathJson, TargetJson } from './types.ts';

// The report's facts turned into advice in plain words, each with the exact lines to use. Pure: a report in,
// conclusions out, so every rule is a table test (test/unit/doctor-conclusions.test.ts).

export interface ConclusionContext {
  /** The NO_PROXY in effect (variable or --no-proxy), so a suggestion can extend it instead of replacing it. */
  noProxy?: { name: string; value: string };
}

type Severity = ConclusionJson['severity'];

export function conclude(report: DoctorReport, context: ConclusionContext): ConclusionJson[] {
  const out: ConclusionJson[] = [];
  const seen = new Set<string>();
  const add = (code: string, severity: Severity, target: string | null, text: string, lines: string[] = []) => {
    const key = `${code}|${target}|${text}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ code, severity, target, text, lines });
  };

  if (!report.complete) {
    add('incomplete', 'warning', null, `the run stopped (${report.stopped === 'interrupted' ? 'interrupted' : '--timeout reached'}) before every probe finished; unfinished results are marked "pending"`);
  }

  for (const target of report.targets) {
    for (const warning of target.route.warnings) add('route-warning', 'warning', null, warning);
    concludeReachability(target, context, add);
    concludeProxies(target, add);
    concludeSsh(target, add);
    concludeTls(target, add);
    concludeTeleport(target, add);
  }

  for (const check of report.http_checks) {
    const ok = check.paths.filter((p) => p.status === 'ok');
    const summary = check.paths.map((p) => `${p.via}: ${p.status_line ?? p.error ?? p.status}`).join('; ');
    if (check.reachable) add('http-check-ok', 'ok', check.url, `${check.url} answers (${summary})`);
    else add('http-check-failed', 'problem', check.url, `${check.url} was not reached${ok.length ? ' (only the proxy answered)' : ''}: ${summary}`);
  }
  return out;
}

type Add = (code: string, severity: Severity, target: string | null, text: string, lines?: string[]) => void;

function isSsh(target: TargetJson): boolean {
  return target.port === 22 || target.paths.some((p) => p.service?.protocol === 'ssh');
}

/** A proxy URL fit to print: credentials replaced by placeholders when the user has them. */
function printableProxy(path: PathJson, hopIndex = 0): string {
  const hop = path.hops[hopIndex] ?? '';
  return path.credentials ? hop.replace('://', '://USER:PASSWORD@') : hop;
}

function proxyVariableLine(path: PathJson): string {
  if (path.hops.length > 1) return `export BURROW_PROXY=${path.hops.map((_h, i) => printableProxy(path, i)).join(',')}`;
  const url = printableProxy(path);
  return /^https?:/.test(url) ? `export HTTPS_PROXY=${url}` : `export ALL_PROXY=${url}`;
}

function sshConfigLines(target: TargetJson): string[] {
  return [`Host ${target.host}`, ...(target.port !== 22 ? [`    Port ${target.port}`] : []), '    ProxyCommand burrow connect %h %p'];
}

function how(path: PathJson): string {
  return path.hops.length ? `through ${path.via}` : 'directly';
}

function shortResult(path: PathJson): string {
  if (path.status === 'open') return 'open';
  if (path.proxy_answer) {
    const schemes = path.proxy_answer.auth_schemes.length ? ` offering ${path.proxy_answer.auth_schemes.join(', ')}` : '';
    return `"${path.proxy_answer.status_line}"${path.proxy_answer.detail ? ` (${path.proxy_answer.detail})` : ''}${schemes}`;
  }
  if (path.status === 'timeout') return 'no answer (timeout)';
  if (path.status === 'pending') return 'not finished';
  return path.error?.message ?? path.status;
}

/** The proxy itself does not work from here: it could not be resolved or reached, or TLS to it failed. */
function proxyProblem(path: PathJson): boolean {
  const phase = path.error?.phase;
  return phase === 'proxy-connect' || phase === 'proxy-tls';
}

function concludeReachability(target: TargetJson, context: ConclusionContext, add: Add): void {
  const name = target.target;
  const route = target.paths.find((p) => p.in_route) ?? target.paths[0];
  const direct = target.paths.find((p) => p.hops.length === 0);
  const open = target.paths.filter((p) => p.status === 'open');
  if (!route) return;
  const routeSource = target.route.plan[0]?.source ?? route.source;
  const decidedBy = target.route.plan[0]?.decided_by;
  const routeText = route.hops.length ? `through ${route.via} (from ${routeSource})` : 'directly';

  if (route.status === 'open') {
    if (isSsh(target) && route.hops.length > 0) {
      add('use-proxycommand', 'ok', name, `${name} is reachable ${routeText}, the route burrow takes; for ssh, in ~/.ssh/config:`, sshConfigLines(target));
    } else {
      add('reachable', 'ok', name, `${name} is reachable ${routeText}, the route burrow takes${route.hops.length === 0 && isSsh(target) ? '; ssh needs no ProxyCommand' : ''}`);
    }
    return;
  }

  if (open.length === 0) {
    const detail = target.paths.map((p) => `${p.via}: ${shortResult(p)}`).join('; ');
    const dns = target.dns.status === 'failed' ? ` (this machine cannot resolve ${target.host}: ${target.dns.error})` : '';
    add('unreachable', 'problem', name, `${name} is not reachable any way doctor tried${dns}: ${detail}`);
    const refusedPort = target.paths.find((p) => p.status === 'refused' && (p.proxy_answer?.status_code === 403 || p.proxy_answer?.status_code === 405));
    if (refusedPort && target.port !== 443) {
      add(
        'proxy-refuses-port',
        'problem',
        name,
        `the proxy ${refusedPort.via} refuses port ${target.port} and direct access fails: reach the service on port 443 (a Teleport proxy with TLS routing, or an SSH server listening on 443), or ask the proxy's administrators to allow port ${target.port}`,
      );
    }
    return;
  }

  // The route fails but something else works: say exactly what to change.
  if (route.hops.length > 0 && direct?.status === 'open') {
    const entry = `${target.host}:${target.port}`;
    const refusesPort = route.status === 'refused' && target.port !== 443 && (route.proxy_answer?.status_code === 403 || route.proxy_answer?.status_code === 405);
    const why = refusesPort ? `the proxy ${route.via} refuses port ${target.port} but direct works` : `the proxy ${route.via} fails for ${name} (${shortResult(route)}) but direct works`;
    if (decidedBy?.kind === 'flag-proxy') {
      add('use-no-proxy', 'problem', name, `${why}: exempt it with --no-proxy (or drop --proxy for this host)`, [`--no-proxy ${entry}`]);
    } else {
      const existing = context.noProxy?.value.trim();
      const variable = context.noProxy && context.noProxy.name !== '--no-proxy' ? context.noProxy.name : 'NO_PROXY';
      add('use-no-proxy', 'problem', name, `${why}: NO_PROXY=${entry}`, [`export ${variable}=${existing ? `${existing},${entry}` : entry}`]);
    }
    return;
  }

  const working = open.find((p) => p.hops.length > 0) ?? open[0]!;
  if (route.hops.length === 0 && working.hops.length > 0) {
    // A NO_PROXY list the user can edit (--no-proxy or the variable; the config file's no_proxy: reads as "config").
    const excluded = decidedBy?.kind === 'no-proxy' && decidedBy.list.from !== 'config';
    const lines = excluded ? [] : [proxyVariableLine(working)];
    const fix = excluded
      ? `remove the matching entry from ${routeSource} (${target.route.plan[0]?.reason ?? ''})`
      : decidedBy?.kind === 'loopback'
          ? `loopback targets never use environment proxies: pass --proxy ${working.hops[0]}`
          : `set a proxy`;
    add('use-proxy', 'problem', name, `direct access to ${name} fails (${shortResult(route)}) but the proxy ${working.via} works: ${fix}`, [
      ...lines,
      ...(isSsh(target) ? sshConfigLines(target) : []),
    ]);
    return;
  }
  add('use-other-proxy', 'problem', name, `the route ${routeText} fails for ${name} (${shortResult(route)}) but ${working.via} (from ${working.source}) works`, working.hops.length ? [proxyVariableLine(working)] : []);
}

function concludeProxies(target: TargetJson, add: Add): void {
  for (const path of target.paths) {
    if (path.hops.length === 0) continue;
    if (proxyProblem(path)) {
      add('proxy-unreachable', 'problem', null, `the proxy ${path.via} (from ${path.source}) does not work from here: ${path.error?.message ?? path.status}; check ${path.source.split(', ')[0]}`);
      continue;
    }
    if (path.status !== 'auth') continue;
    const schemes = path.proxy_answer?.auth_schemes ?? [];
    const basic = schemes.some((s) => /^basic$/i.test(s));
    const ntlm = schemes.some((s) => /^ntlm$/i.test(s));
    const negotiate = schemes.some((s) => /^negotiate$/i.test(s));
    const offered = schemes.length ? schemes.join(', ') : 'no scheme named';
    if (!basic && ntlm) {
      // burrow speaks NTLM (and Negotiate): what is missing is the right user and password.
      add(
        'proxy-needs-ntlm',
        'problem',
        null,
        path.credentials
          ? `your proxy ${path.via} needs NTLM (it offers ${offered}) and rejects the credentials from ${path.source}: check the password, and the user name, which NTLM proxies often want as DOMAIN\\user (DOMAIN%5Cuser in a URL)`
          : `your proxy ${path.via} needs NTLM (it offers ${offered}): burrow speaks it, given your Windows user and password; put them in the proxy URL, the user as DOMAIN%5Cuser`,
        path.credentials ? [] : [proxyVariableLine({ ...path, credentials: true }).replace('USER:PASSWORD', 'DOMAIN%5CUSER:PASSWORD')],
      );
    } else if (!basic && negotiate) {
      add(
        'proxy-needs-negotiate',
        'problem',
        null,
        `your proxy ${path.via} needs Negotiate (Kerberos) (it offers ${offered}): burrow speaks it with a Kerberos ticket and the optional kerberos package (npm install kerberos, built with libkrb5-dev); get a ticket with kinit, no password goes in the URL`,
        ['kinit USER@REALM'],
      );
    } else if (path.credentials) {
      add('proxy-rejects-credentials', 'problem', null, `the proxy ${path.via} rejects the credentials from ${path.source} (it offers ${offered}): check the user name and password; percent-encode ":" "@" and spaces in the URL`);
    } else {
      add('proxy-needs-credentials', 'problem', null, `the proxy ${path.via} requires authentication (it offers ${offered}): put the credentials in the proxy URL, percent-encoded`, [
        proxyVariableLine({ ...path, credentials: true }),
      ]);
    }
  }
}

function concludeSsh(target: TargetJson, add: Add): void {
  const name = target.target;
  const keys = new Map<string, string[]>();
  for (const path of target.paths) {
    const ssh = path.service?.ssh;
    if (!ssh) {
      if (path.status === 'open' && target.port === 22 && path.service && path.service.protocol !== 'ssh' && path.service.protocol !== 'closed') {
        add('not-ssh', 'warning', name, `${how(path)}, ${name} does not answer like an SSH server (${path.service.first_line ? `"${path.service.first_line}"` : path.service.protocol})`);
      }
      continue;
    }
    if (ssh.error) add('ssh-handshake-failed', 'warning', name, `${how(path)}, ${name} sent "${ssh.banner}" but the key exchange failed: ${ssh.error}`);
    const key = ssh.host_key;
    const known = ssh.known_hosts;
    if (key) keys.set(key.fingerprint, [...(keys.get(key.fingerprint) ?? []), path.via]);
    if (!key || !known) continue;
    const entry = knownHostsName(target.host, target.port);
    if (known.status === 'mismatch') {
      add(
        'host-key-mismatch',
        'problem',
        name,
        `the SSH host key of ${name} seen ${how(path)} (${key.type} ${key.fingerprint}) differs from ${known.file} line ${known.line} (${known.known_fingerprints.join(', ')}): possible interception, or a reinstalled server; confirm the fingerprint with the server's administrators before connecting`,
        [`ssh-keygen -F '${entry}' -f ${known.file}`],
      );
    } else if (known.status === 'revoked') {
      add('host-key-revoked', 'problem', name, `the SSH host key of ${name} seen ${how(path)} is marked @revoked in ${known.file} line ${known.line}`);
    } else if (known.status === 'unknown') {
      add('host-key-unknown', 'info', name, `${name} is not in ${known.file}: ssh will ask you to accept ${key.type} ${key.fingerprint}; compare it with what the server's administrators publish`);
    } else if (known.status === 'match') {
      add('host-key-match', 'ok', name, `the SSH host key of ${name} (${key.type} ${key.fingerprint}) matches ${known.file} line ${known.line}`);
    }
  }
  if (keys.size > 1) {
    const seen = [...keys.entries()].map(([fp, vias]) => `${vias.join(', ')}: ${fp}`).join('; ');
    add('host-key-differs-by-path', 'problem', name, `${name} shows different SSH host keys depending on the path (${seen}): something on one path intercepts SSH`);
  }
}

function concludeTls(target: TargetJson, add: Add): void {
  const name = target.target;
  const certs = target.paths.filter((p) => p.service?.tls?.certificate).map((p) => ({ path: p, cert: p.service!.tls!.certificate! }));
  if (certs.length === 0) return;
  const direct = certs.find((c) => c.path.hops.length === 0);
  for (const { path, cert } of certs) {
    if (path.hops.length === 0) continue;
    // Issuers, not fingerprints (a server may show different certificates from one CA) and not trust alone (the
    // system store trusts a corporate inspection CA): the same name presenting another CA's certificate is inspection.
    if (direct && direct.cert.issuer !== cert.issuer) {
      add(
        'tls-inspected',
        'problem',
        name,
        `TLS inspected by ${cert.issuer_name || cert.issuer}: ${how(path)}, ${name} presents a certificate issued by "${cert.issuer}" instead of the server's own (issued by "${direct.cert.issuer}"); SSH over TLS and Teleport's TLS routing break behind it`,
        target.paths.some((p) => p.service?.teleport) ? ['export TELEPORT_TLS_ROUTING_CONN_UPGRADE=true'] : [],
      );
    } else if (!direct && !cert.verified) {
      add(
        'tls-untrusted',
        'warning',
        name,
        `${how(path)}, ${name} presents a certificate issued by "${cert.issuer}" that this machine does not trust (${cert.verify_error}): TLS inspected by ${cert.issuer_name || cert.issuer}, or a private CA (pass it with --ca FILE to check)`,
      );
    } else if (!direct && cert.trusted_by && !cert.trusted_by.origins.includes('bundled')) {
      add(
        'tls-private-ca',
        'info',
        name,
        `${how(path)}, ${name} presents a certificate issued by "${cert.issuer}", a CA this machine trusts (${describeOrigins(cert.trusted_by.origins)}) but not a public one: a private CA, or TLS inspected by ${cert.issuer_name || cert.issuer} if ${name} is a public server (compare with the direct path to tell)`,
      );
    }
  }
  if (direct && !direct.cert.verified) {
    add('tls-untrusted', 'warning', name, `${name} presents a certificate issued by "${direct.cert.issuer}" that this machine does not trust (${direct.cert.verify_error}); a private CA? (pass it with --ca FILE)`);
  }
}

function concludeTeleport(target: TargetJson, add: Add): void {
  const path = target.paths.find((p) => p.service?.teleport);
  const teleport = path?.service?.teleport;
  if (!path || !teleport) return;
  const name = target.target;
  const version = teleport.server_version ? `, version ${teleport.server_version}` : '';
  const cluster = teleport.cluster_name ? `cluster "${teleport.cluster_name}"` : 'an unnamed cluster';
  const routing = teleport.tls_routing_enabled
    ? 'TLS routing is on: SSH rides on this port, so a proxy that allows 443 is enough'
    : `TLS routing is off: SSH goes to ${teleport.ssh_address ?? 'an address it did not say'}, which must be reachable too (probed as its own target)`;
  const lines = [`tsh login --proxy=${target.host}:${target.port}`];
  if (path.hops.length > 0 && path.in_route) lines.unshift(proxyVariableLine(path));
  add('teleport', 'info', name, `${name} is a Teleport proxy for ${cluster}${version}; ${routing}`, lines);
  for (const routed of target.paths) {
    const check = routed.service?.tls_routing;
    if (!check?.conn_upgrade) continue;
    add(
      'teleport-conn-upgrade',
      'problem',
      name,
      `${how(routed)}, TLS routing to ${name} breaks: ${check.seen}. tsh must tunnel through its connection upgrade (burrow tsh sets the variable itself)`,
      ['export TELEPORT_TLS_ROUTING_CONN_UPGRADE=true'],
    );
  }
}
