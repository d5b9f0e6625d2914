import { describe, expect, it } from 'vitest';
import { conclude, type ConclusionContext } from '../../src/doctor/conclusions.ts';
import type { CaOrigin } from '../../src/trust/trust-store.ts';
import type { CertificateJson, DoctorReport, PathJson, ServiceJson, TargetJson } from '../../src/doctor/types.ts';
import type { RouteSource } from '../../src/route/plan.ts';

const PROXY = 'http://proxy.corp:3128';

function path(via: string, fields: Partial<PathJson> = {}): PathJson {
  return {
    via,
    hops: via === 'direct' ? [] : via.split(' -> '),
    source: via === 'direct' ? 'direct' : 'HTTPS_PROXY',
    in_route: false,
    credentials: false,
    status: 'open',
    ms: 5,
    proxy_answer: null,
    error: null,
    service: null,
    ...fields,
  };
}

// The typed fact behind each display text used here (conclusions decide on it, never on the text).
function decidedBy(text: string): RouteSource {
  if (text === '--proxy') return { kind: 'flag-proxy' };
  if (text === 'NO_PROXY') return { kind: 'no-proxy', list: { from: 'environment', name: 'NO_PROXY' } };
  if (text === 'default') return { kind: 'none' };
  if (text === 'loopback') return { kind: 'loopback' };
  return { kind: 'environment', variable: text };
}

function target(name: string, paths: PathJson[], routeSource = 'HTTPS_PROXY'): TargetJson {
  const colon = name.lastIndexOf(':');
  const route = paths.find((p) => p.in_route)!;
  return {
    target: name,
    host: name.slice(0, colon),
    port: Number(name.slice(colon + 1)),
    derived_from: null,
    route: { plan: [{ hops: route.hops, source: routeSource, decided_by: decidedBy(routeSource), reason: 'test' }], warnings: [] },
    dns: { status: 'ok', addresses: ['192.0.2.7'], error: null },
    paths,
    reachable: paths.some((p) => p.status === 'open'),
  };
}

function report(targets: TargetJson[], extra: Partial<DoctorReport> = {}): DoctorReport {
  return { burrow: '0.1.0', complete: true, stopped: null, proxies: [], targets, http_checks: [], conclusions: [], exit_code: 0, ...extra };
}

const refused403 = { status: 'refused' as const, proxy_answer: { status_code: 403, status_line: 'HTTP/1.1 403 Forbidden', auth_schemes: [], detail: 'ERR_ACCESS_DENIED 0' } };
const ssh = (fingerprint: string, known: 'match' | 'mismatch' | 'unknown' = 'match'): ServiceJson => ({
  protocol: 'ssh',
  first_line: null,
  ssh: {
    banner: 'SSH-2.0-OpenSSH_9.2p1',
    host_key: { type: 'ssh-ed25519', fingerprint },
    known_hosts: { status: known, file: '/home/u/.ssh/known_hosts', line: known === 'unknown' ? null : 3, known_fingerprints: known === 'mismatch' ? ['SHA256:known'] : [] },
    error: null,
  },
  tls: null,
  teleport: null,
});
const tls = (fingerprint256: string, issuerName: string, verified: boolean, origins: CaOrigin[] = ['bundled']): ServiceJson => {
  const certificate: CertificateJson = {
    subject: 'CN=jump.ecmwf.int',
    issuer: `CN=${issuerName}`,
    issuer_name: issuerName,
    valid_to: '2030-01-01T00:00:00.000Z',
    fingerprint256,
    verified,
    verify_error: verified ? null : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    trusted_by: verified ? { origins, name: issuerName } : null,
  };
  return { protocol: 'tls', first_line: null, ssh: null, tls: { certificate, protocol: 'TLSv1.3', alpn: 'http/1.1', error: null }, teleport: null };
};

const codes = (r: DoctorReport, context: ConclusionContext = {}) => conclude(r, context).map((c) => c.code);
const find = (r: DoctorReport, code: string, context: ConclusionContext = {}) => conclude(r, context).find((c) => c.code === code);

describe('conclusions', () => {
  it('the proxy refuses port 22 but direct works: NO_PROXY=host:22', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct', { service: ssh('SHA256:a') }), path(PROXY, { in_route: true, ...refused403 })])]);
    const c = find(r, 'use-no-proxy')!;
    expect(c.severity).toBe('problem');
    expect(c.text).toBe(`the proxy ${PROXY} refuses port 22 but direct works: NO_PROXY=jump.ecmwf.int:22`);
    expect(c.lines).toEqual(['export NO_PROXY=jump.ecmwf.int:22']);
  });

  it('extends an existing NO_PROXY rather than replacing it, keeping its spelling', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct'), path(PROXY, { in_route: true, ...refused403 })])]);
    expect(find(r, 'use-no-proxy', { noProxy: { name: 'no_proxy', value: 'localhost,.corp' } })!.lines).toEqual(['export no_proxy=localhost,.corp,jump.ecmwf.int:22']);
  });

  it('with --proxy, suggests --no-proxy', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct'), path(PROXY, { in_route: true, source: '--proxy', ...refused403 })], '--proxy')]);
    expect(find(r, 'use-no-proxy')!.lines).toEqual(['--no-proxy jump.ecmwf.int:22']);
  });

  it('your proxy needs NTLM: burrow speaks it, given DOMAIN\\user and a password', () => {
    const answer = { status_code: 407, status_line: 'HTTP/1.1 407 Proxy Authentication Required', auth_schemes: ['NTLM', 'Negotiate'], detail: null };
    const r = report([target('jump.ecmwf.int:443', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, status: 'auth', proxy_answer: answer })])]);
    const c = find(r, 'proxy-needs-ntlm')!;
    expect(c.text).toContain(`your proxy ${PROXY} needs NTLM (it offers NTLM, Negotiate): burrow speaks it`);
    expect(c.text).not.toMatch(/not supported/);
    expect(c.lines).toEqual(['export HTTPS_PROXY=http://DOMAIN%5CUSER:PASSWORD@proxy.corp:3128']);
    expect(codes(r)).toContain('unreachable');
    const rejected = report([target('jump.ecmwf.int:443', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, status: 'auth', credentials: true, proxy_answer: answer })])]);
    expect(find(rejected, 'proxy-needs-ntlm')!.text).toContain('rejects the credentials from HTTPS_PROXY');
  });

  it('your proxy needs Negotiate: a Kerberos ticket, no password', () => {
    const answer = { status_code: 407, status_line: 'HTTP/1.1 407 Proxy Authentication Required', auth_schemes: ['Negotiate'], detail: null };
    const r = report([target('jump.ecmwf.int:443', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, status: 'auth', proxy_answer: answer })])]);
    const c = find(r, 'proxy-needs-negotiate')!;
    expect(c.text).toContain('burrow speaks it with a Kerberos ticket');
    expect(c.lines).toEqual(['kinit USER@REALM']);
  });

  it('a 407 offering Basic without credentials asks for them, with placeholders only', () => {
    const answer = { status_code: 407, status_line: 'HTTP/1.1 407 Proxy Authentication Required', auth_schemes: ['Basic'], detail: null };
    const r = report([target('jump.ecmwf.int:443', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, status: 'auth', proxy_answer: answer })])]);
    expect(find(r, 'proxy-needs-credentials')!.lines).toEqual(['export HTTPS_PROXY=http://USER:PASSWORD@proxy.corp:3128']);
  });

  it('a 407 with credentials sent says they are rejected', () => {
    const answer = { status_code: 407, status_line: 'HTTP/1.1 407 Proxy Authentication Required', auth_schemes: ['Basic'], detail: null };
    const r = report([target('jump.ecmwf.int:443', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, credentials: true, status: 'auth', proxy_answer: answer })])]);
    expect(codes(r)).toContain('proxy-rejects-credentials');
  });

  it('direct fails but the proxy works: set the proxy and use burrow as ProxyCommand', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct', { in_route: true, status: 'timeout' }), path(PROXY, { credentials: true, service: ssh('SHA256:a') })], 'default')]);
    const c = find(r, 'use-proxy')!;
    expect(c.lines).toEqual(['export HTTPS_PROXY=http://USER:PASSWORD@proxy.corp:3128', 'Host jump.ecmwf.int', '    ProxyCommand burrow connect %h %p']);
  });

  it('direct excluded by NO_PROXY but only the proxy works: remove the entry', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct', { in_route: true, status: 'timeout' }), path(PROXY)], 'NO_PROXY')]);
    expect(find(r, 'use-proxy')!.text).toContain('remove the matching entry from NO_PROXY');
  });

  it('the route works: the ssh_config lines', () => {
    const r = report([target('jump.ecmwf.int:2222', [path('direct', { status: 'unreachable' }), path(PROXY, { in_route: true, service: ssh('SHA256:a') })])]);
    const c = find(r, 'use-proxycommand')!;
    expect(c.severity).toBe('ok');
    expect(c.lines).toEqual(['Host jump.ecmwf.int', '    Port 2222', '    ProxyCommand burrow connect %h %p']);
  });

  it('nothing works and the proxy refuses the port: say 443 or ask the administrators', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, ...refused403 })])]);
    expect(codes(r)).toEqual(expect.arrayContaining(['unreachable', 'proxy-refuses-port']));
    expect(find(r, 'unreachable')!.text).toContain('"HTTP/1.1 403 Forbidden" (ERR_ACCESS_DENIED 0)');
  });

  it('a proxy that does not answer is named with the variable to check', () => {
    const error = { kind: 'unreachable', message: `the proxy ${PROXY} refused the TCP connection (ECONNREFUSED)`, hint: null, said: 'ECONNREFUSED', phase: 'proxy-connect', hop: 0 };
    const r = report([target('jump.ecmwf.int:22', [path('direct'), path(PROXY, { in_route: true, status: 'unreachable', error })])]);
    expect(find(r, 'proxy-unreachable')!.text).toContain('check HTTPS_PROXY');
  });

  it('decides on the failed step, not on the wording: a proxy that answered is not "unreachable"', () => {
    // Worded like a TCP failure, but the proxy answered CONNECT: the target is what failed.
    const error = { kind: 'unreachable', message: `cannot reach the proxy ${PROXY} (it says so)`, hint: null, said: 'x', phase: 'proxy-handshake', hop: 0 };
    const r = report([target('jump.ecmwf.int:22', [path('direct'), path(PROXY, { in_route: true, status: 'unreachable', error })])]);
    expect(codes(r)).not.toContain('proxy-unreachable');
    const tls = { ...error, message: 'whatever the words', phase: 'proxy-tls' };
    const t = report([target('jump.ecmwf.int:22', [path('direct'), path(PROXY, { in_route: true, status: 'unreachable', error: tls })])]);
    expect(codes(t)).toContain('proxy-unreachable');
  });

  it('a host key that differs from known_hosts is possible interception', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct', { in_route: true, service: ssh('SHA256:evil', 'mismatch') })], 'default')]);
    const c = find(r, 'host-key-mismatch')!;
    expect(c.severity).toBe('problem');
    expect(c.text).toContain('possible interception');
    expect(c.text).toContain('/home/u/.ssh/known_hosts line 3');
  });

  it('different host keys direct and through the proxy: the proxy intercepts SSH', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct', { service: ssh('SHA256:real') }), path(PROXY, { in_route: true, service: ssh('SHA256:evil') })])]);
    expect(codes(r)).toContain('host-key-differs-by-path');
  });

  it('a different certificate through the proxy: TLS inspected by <issuer>', () => {
    const r = report([target('jump.ecmwf.int:443', [path('direct', { service: tls('AA', 'Real CA', true) }), path(PROXY, { in_route: true, service: tls('BB', 'Corp Inspection CA', false) })])]);
    expect(find(r, 'tls-inspected')!.text).toMatch(/^TLS inspected by Corp Inspection CA: through http:\/\/proxy.corp:3128/);
  });

  it('an untrusted certificate through the proxy with no direct view: inspection or a private CA', () => {
    const r = report([target('jump.ecmwf.int:443', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, service: tls('BB', 'Corp Inspection CA', false) })])]);
    expect(find(r, 'tls-untrusted')!.text).toContain('TLS inspected by Corp Inspection CA, or a private CA');
  });

  it('a trusted corporate CA through the proxy is still inspection when the direct path shows another issuer', () => {
    const r = report([target('jump.ecmwf.int:443', [path('direct', { service: tls('AA', 'Real CA', true) }), path(PROXY, { in_route: true, service: tls('BB', 'Corp Inspection CA', true, ['system']) })])]);
    expect(find(r, 'tls-inspected')!.text).toMatch(/^TLS inspected by Corp Inspection CA: /);
  });

  it('the same issuer with another certificate (a server farm, a renewal) is not inspection', () => {
    const r = report([target('jump.ecmwf.int:443', [path('direct', { service: tls('AA', 'Real CA', true) }), path(PROXY, { in_route: true, service: tls('BB', 'Real CA', true) })])]);
    expect(codes(r)).not.toContain('tls-inspected');
  });

  it('with no direct view, a certificate only the system store vouches for is named as a private CA or inspection', () => {
    const privateCa = report([target('jump.ecmwf.int:443', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, service: tls('BB', 'Corp CA', true, ['system']) })])]);
    const c = find(privateCa, 'tls-private-ca')!;
    expect(c.severity).toBe('info');
    expect(c.text).toContain('a CA this machine trusts (the system store) but not a public one: a private CA, or TLS inspected by Corp CA');
    expect(codes(privateCa)).not.toContain('tls-untrusted');
    const publicCa = report([target('jump.ecmwf.int:443', [path('direct', { status: 'timeout' }), path(PROXY, { in_route: true, service: tls('BB', 'Public CA', true, ['bundled', 'system']) })])]);
    expect(codes(publicCa)).not.toContain('tls-private-ca');
  });

  it('a Teleport proxy: cluster, version, routing and the tsh line', () => {
    const service = tls('AA', 'Real CA', true);
    service.teleport = { cluster_name: 'ecmwf', server_version: '16.4.0', min_client_version: '15.0.0', tls_routing_enabled: false, ssh_address: 'jump.ecmwf.int:3023', web_address: 'jump.ecmwf.int:443' };
    const r = report([target('jump.ecmwf.int:443', [path('direct', { in_route: true, service })], 'default')]);
    const c = find(r, 'teleport')!;
    expect(c.text).toBe('jump.ecmwf.int:443 is a Teleport proxy for cluster "ecmwf", version 16.4.0; TLS routing is off: SSH goes to jump.ecmwf.int:3023, which must be reachable too (probed as its own target)');
    expect(c.lines).toEqual(['tsh login --proxy=jump.ecmwf.int:443']);
  });

  it('a Teleport proxy with TLS routing whose ALPN does not survive one path: teleport-conn-upgrade with the export line, for that path only', () => {
    const teleport = { cluster_name: 'ecmwf', server_version: '16.4.0', min_client_version: '15.0.0', tls_routing_enabled: true, ssh_address: 'jump.ecmwf.int:443', web_address: 'jump.ecmwf.int:443' };
    const inspected = { ...tls('BB', 'Corp Inspection CA', false), teleport, tls_routing: { conn_upgrade: true, alpn: null, issuer: 'Corp Inspection CA', seen: 'no ALPN protocol agreed instead of teleport-proxy-ssh' } };
    const clean = { ...tls('AA', 'Real CA', true), teleport, tls_routing: { conn_upgrade: false, alpn: 'teleport-proxy-ssh', issuer: 'Real CA', seen: 'ALPN teleport-proxy-ssh agreed' } };
    const r = report([target('jump.ecmwf.int:443', [path('direct', { in_route: true, service: { ...tls('AA', 'Real CA', true), teleport } }), path(PROXY, { service: inspected }), path('http://other.corp:8080', { service: clean })], 'default')]);
    const found = conclude(r, {}).filter((c) => c.code === 'teleport-conn-upgrade');
    expect(found).toHaveLength(1);
    expect(found[0]!.severity).toBe('problem');
    expect(found[0]!.text).toBe(`through ${PROXY}, TLS routing to jump.ecmwf.int:443 breaks: no ALPN protocol agreed instead of teleport-proxy-ssh. tsh must tunnel through its connection upgrade (burrow tsh sets the variable itself)`);
    expect(found[0]!.lines).toEqual(['export TELEPORT_TLS_ROUTING_CONN_UPGRADE=true']);
  });

  it('an incomplete run says so first', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct', { in_route: true, status: 'pending' })], 'default')], { complete: false, stopped: 'interrupted' });
    expect(codes(r)[0]).toBe('incomplete');
  });

  it('never prints credentials: suggestions use placeholders', () => {
    const r = report([target('jump.ecmwf.int:22', [path('direct', { in_route: true, status: 'timeout' }), path(PROXY, { credentials: true })], 'default')]);
    expect(JSON.stringify(conclude(r, {}))).not.toMatch(/:\/\/[^U/][^@/]*@/);
  });
});
