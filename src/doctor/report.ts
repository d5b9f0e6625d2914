import { describeOrigins } from '../trust/trust-store.ts';
import type { DoctorReport, PathJson, ServiceJson, TargetJson } from './types.ts';

// The human report: one block per target (route, DNS, a table of paths), then the conclusions with the lines to
// use. Colour only when asked (a TTY); the text is the same either way.

export interface Style {
  ok(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const plain = (text: string) => text;
export const PLAIN: Style = { ok: plain, bad: plain, warn: plain, dim: plain, bold: plain };
const sgr = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;
export const COLOUR: Style = { ok: sgr('32'), bad: sgr('31'), warn: sgr('33'), dim: sgr('2'), bold: sgr('1') };

export function renderReport(report: DoctorReport, style: Style = PLAIN): string {
  const lines: string[] = [];
  const proxies = report.proxies.length ? report.proxies.map((p) => `${p.via} (${p.source})`).join(', ') : 'none configured';
  lines.push(`${style.bold('burrow doctor')} ${report.burrow}   proxies: ${proxies}`);
  if (!report.complete) lines.push(style.warn(`stopped early (${report.stopped}): results so far`));
  for (const target of report.targets) lines.push('', ...renderTarget(target, style));
  for (const check of report.http_checks) {
    lines.push('', `${style.bold(check.url)}  ${check.reachable ? style.ok('reached') : style.bad('not reached')}`);
    lines.push(...table(check.paths.map((p) => [p.via, colourStatus(p.status === 'ok' ? 'open' : p.status, style), p.status_line ?? p.error ?? '', Object.entries(p.headers).map(([k, v]) => `${k}: ${v}`).join('; ')])));
  }
  lines.push('', style.bold('conclusions'));
  if (report.conclusions.length === 0) lines.push('  (none)');
  for (const conclusion of report.conclusions) {
    const mark = conclusion.severity === 'ok' ? style.ok('ok ') : conclusion.severity === 'problem' ? style.bad('!! ') : conclusion.severity === 'warning' ? style.warn('?? ') : style.dim('-- ');
    lines.push(`  ${mark}${conclusion.text}`);
    for (const line of conclusion.lines) lines.push(`        ${style.bold(line)}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderTarget(target: TargetJson, style: Style): string[] {
  const head = `${style.bold(target.target)}  ${target.reachable ? style.ok('reachable') : style.bad('NOT reachable')}${target.derived_from ? style.dim(`  (from ${target.derived_from})`) : ''}`;
  const route = target.route.plan[0];
  const lines = [head];
  if (route) lines.push(`  route  ${route.hops.length ? route.hops.join(' -> ') : 'direct'}  (${route.source}: ${route.reason})`);
  const dns = target.dns;
  lines.push(`  dns    ${dns.status === 'ok' || dns.status === 'literal' ? dns.addresses.join(', ') : `${dns.status}${dns.error ? ` (${dns.error})` : ''}`}`);
  const rows = target.paths.map((path) => [
    `${path.via}${path.in_route ? ' *' : ''}`,
    colourStatus(path.status, style),
    path.ms === null ? '' : `${path.ms} ms`,
    detail(path),
  ]);
  lines.push(...table([['path (* = route)', 'result', 'time', 'detail'], ...rows]).map((line, i) => (i === 0 ? style.dim(line) : line)));
  for (const path of target.paths) {
    for (const extra of serviceLines(path.service)) lines.push(`    ${style.dim(`${path.via}:`)} ${extra}`);
  }
  return lines;
}

function colourStatus(status: string, style: Style): string {
  // Pad before colouring so the escape codes do not upset the column widths.
  const padded = status.padEnd(11);
  if (status === 'open') return style.ok(padded);
  if (status === 'pending' || status === 'skipped') return style.dim(padded);
  return style.bad(padded);
}

function detail(path: PathJson): string {
  if (path.status === 'open') {
    const s = path.service;
    if (!s) return '';
    if (s.protocol === 'ssh') return s.ssh?.banner ?? 'ssh';
    if (s.protocol === 'tls') return `TLS ${s.tls?.protocol ?? ''}${s.teleport ? ', Teleport' : ''}`;
    if (s.protocol === 'other') return `speaks first: "${s.first_line ?? ''}"`;
    return s.protocol === 'silent' ? 'silent (no banner, no TLS)' : 'closed at once';
  }
  if (path.proxy_answer) {
    const a = path.proxy_answer;
    return `${a.status_line}${a.detail ? ` (${a.detail})` : ''}${a.auth_schemes.length ? `; offers ${a.auth_schemes.join(', ')}` : ''}`;
  }
  return path.error?.message ?? '';
}

function serviceLines(service: ServiceJson | null): string[] {
  if (!service) return [];
  const out: string[] = [];
  const ssh = service.ssh;
  if (ssh?.host_key) {
    const known = ssh.known_hosts;
    const verdict = known ? `known_hosts: ${known.status}${known.line ? ` (line ${known.line})` : ''}` : '';
    out.push(`host key ${ssh.host_key.type} ${ssh.host_key.fingerprint}  ${verdict}`);
  } else if (ssh?.error) {
    out.push(`host key not read: ${ssh.error}`);
  }
  const cert = service.tls?.certificate;
  if (cert) {
    out.push(`certificate ${cert.subject}; issuer ${cert.issuer}; ${cert.verified ? `trusted${cert.trusted_by ? ` (CA ${cert.trusted_by.name}, from ${describeOrigins(cert.trusted_by.origins)})` : ''}` : `NOT trusted (${cert.verify_error})`}; expires ${cert.valid_to.slice(0, 10)}`);
  } else if (service.tls?.error) {
    out.push(`TLS: ${service.tls.error}`);
  }
  const t = service.teleport;
  if (t) {
    out.push(`Teleport cluster ${t.cluster_name ?? '?'} version ${t.server_version ?? '?'}; TLS routing ${t.tls_routing_enabled ? 'on' : 'off'}; SSH at ${t.ssh_address ?? '?'}`);
  }
  return out;
}

/** Left-aligned columns; the last column is not padded. */
function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)))).join('  ')}`.trimEnd());
}

function visibleLength(text: string): number {
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}
