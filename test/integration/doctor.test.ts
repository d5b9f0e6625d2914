// `burrow doctor` end to end against Node peers on 127.0.0.1 (test/helpers/doctor-peers.ts, node-peers.ts): the
// --json document field by field, conclusions with their exact lines, the bounds (per probe and whole run) and Ctrl-C.
// No wall-clock assertions: bounds are checked by what the report says (timeout / pending / stopped), not by time.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport, PathJson, TargetJson } from '../../src/doctor/types.ts';
import { startConnectProxy } from '../helpers/node-peers.ts';
import {
  closedPort,
  makeNamedCa,
  startBlackHole,
  startHttpForwardProxy,
  startHttpOrigin,
  startKeyedSshServer,
  type NamedCa,
} from '../helpers/doctor-peers.ts';
import { desktopEnv, writeKioslaverc } from '../helpers/desktop-settings.ts';
import { startInspectingProxy } from '../helpers/inspecting-proxy.ts';
import { startTeleportProxy } from '../helpers/teleport-proxy.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();

const work = mkdtempSync(join(tmpdir(), 'burrow-doctor-'));
const emptyKnownHosts = join(work, 'known_hosts.empty');
writeFileSync(emptyKnownHosts, '');

async function doctor(args: string[], env: Record<string, string | undefined> = {}) {
  const knownHosts = args.includes('--known-hosts') ? [] : ['--known-hosts', emptyKnownHosts];
  const result = await runBurrow(['doctor', '--json', ...knownHosts, ...args], { env: cleanEnv(env), killAfterMs: 60_000 });
  let report: DoctorReport | undefined;
  try {
    report = JSON.parse(result.stdout.toString()) as DoctorReport;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout.toString()}\nstderr:\n${result.stderr}`);
  }
  return { ...result, report };
}

const targetOf = (report: DoctorReport, name: string): TargetJson => {
  const target = report.targets.find((t) => t.target === name);
  if (!target) throw new Error(`no target ${name} in ${report.targets.map((t) => t.target).join(', ')}`);
  return target;
};
const pathOf = (target: TargetJson, via: string): PathJson => target.paths.find((p) => p.via === via)!;

describe('burrow doctor (hermetic)', () => {
  let ca: NamedCa;
  let inspectCa: NamedCa;
  beforeAll(() => {
    ca = makeNamedCa('burrow doctor test CA');
    inspectCa = makeNamedCa('Corp Inspection CA');
  });
  afterAll(() => {});

  it('SSH target: proxy refuses the port, direct works; banner, host key, known_hosts match, NO_PROXY advice', async () => {
    const sshd = await track(startKeyedSshServer());
    const proxy = await track(startConnectProxy({ only443: true }));
    const knownHosts = join(work, 'known_hosts.match');
    writeFileSync(knownHosts, `# test\n[127.0.0.1]:${sshd.port} ${sshd.publicKey}\n`);
    const name = `127.0.0.1:${sshd.port}`;
    const { code, report, stdout } = await doctor(['--known-hosts', knownHosts, '-x', proxy.url, name]);
    expect(code).toBe(0);
    expect(report.burrow).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.complete).toBe(true);
    expect(report.stopped).toBeNull();
    expect(report.exit_code).toBe(0);
    expect(report.proxies).toEqual([{ via: proxy.url, hops: [proxy.url], source: '--proxy' }]);
    expect(report.http_checks).toEqual([]);

    const target = targetOf(report, name);
    expect(target.host).toBe('127.0.0.1');
    expect(target.port).toBe(sshd.port);
    expect(target.derived_from).toBeNull();
    expect(target.route).toEqual({ plan: [{ hops: [proxy.url], source: '--proxy', decided_by: { kind: 'flag-proxy' }, reason: '--proxy was given' }], warnings: [] });
    expect(target.dns).toEqual({ status: 'literal', addresses: ['127.0.0.1'], error: null });
    expect(target.reachable).toBe(true);
    expect(target.paths.map((p) => p.via)).toEqual(['direct', proxy.url]);

    const direct = pathOf(target, 'direct');
    expect(direct.in_route).toBe(false);
    expect(direct.hops).toEqual([]);
    expect(direct.source).toBe('direct');
    expect(direct.credentials).toBe(false);
    expect(direct.status).toBe('open');
    expect(typeof direct.ms).toBe('number');
    expect(direct.proxy_answer).toBeNull();
    expect(direct.error).toBeNull();
    expect(direct.service!.protocol).toBe('ssh');
    expect(direct.service!.ssh!.banner).toMatch(/^SSH-2\.0-/);
    expect(direct.service!.ssh!.host_key!.type).toBe('ssh-ed25519');
    expect(direct.service!.ssh!.host_key!.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(direct.service!.ssh!.known_hosts).toEqual({ status: 'match', file: knownHosts, line: 2, known_fingerprints: [] });
    expect(direct.service!.ssh!.error).toBeNull();
    expect(direct.service!.tls).toBeNull();

    const viaProxy = pathOf(target, proxy.url);
    expect(viaProxy.in_route).toBe(true);
    expect(viaProxy.status).toBe('refused');
    expect(viaProxy.ms).toBeNull();
    expect(viaProxy.proxy_answer).toEqual({ status_code: 403, status_line: 'HTTP/1.1 403 Forbidden', auth_schemes: [], detail: 'ERR_ACCESS_DENIED 0' });
    expect(viaProxy.error!.kind).toBe('refused');
    expect(viaProxy.service).toBeNull();

    const advice = report.conclusions.find((c) => c.code === 'use-no-proxy')!;
    expect(advice.severity).toBe('problem');
    expect(advice.target).toBe(name);
    expect(advice.text).toContain(`the proxy ${proxy.url} refuses port ${sshd.port} but direct works`);
    expect(advice.lines).toEqual([`--no-proxy 127.0.0.1:${sshd.port}`]);
    expect(report.conclusions.find((c) => c.code === 'host-key-match')).toBeDefined();
    // stdout is the JSON document and nothing else
    expect(stdout.toString().trim().startsWith('{')).toBe(true);
  });

  it("a proxy from the desktop's settings alone (KDE's kioslaverc) is named by its origin and checked like HTTPS_PROXY's", async () => {
    const sshd = await track(startKeyedSshServer());
    const proxy = await track(startConnectProxy());
    const home = mkdtempSync(join(work, 'kde-home-'));
    const file = writeKioslaverc(home, ['ProxyType=1', `httpsProxy=http://127.0.0.1 ${proxy.port}`]);
    const name = `127.0.0.1:${sshd.port}`;
    const { code, report } = await doctor([name], desktopEnv(home, 'KDE'));
    expect(code).toBe(0);
    const origin = `KDE proxy settings (${file})`;
    expect(report.proxies).toEqual([{ via: proxy.url, hops: [proxy.url], source: origin }]);
    // A loopback target goes direct (the loopback rule), and doctor still tries the desktop's proxy for it.
    const target = targetOf(report, name);
    expect(target.route.plan.map((p) => p.source)).toEqual(['loopback']);
    expect(target.paths.map((p) => [p.via, p.source])).toEqual([['direct', 'direct'], [proxy.url, origin]]);
    expect(pathOf(target, proxy.url).status).toBe('open');
    expect(pathOf(target, proxy.url).service!.ssh!.banner).toMatch(/^SSH-2\.0-/);
    expect(proxy.requests.map((r) => r.requestLine)).toContain(`CONNECT ${name} HTTP/1.1`);
  });

  it('flags a host key that differs from known_hosts as possible interception', async () => {
    const sshd = await track(startKeyedSshServer());
    const other = await track(startKeyedSshServer());
    const knownHosts = join(work, 'known_hosts.mismatch');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${other.publicKey}\n`);
    const { code, report } = await doctor(['--known-hosts', knownHosts, `127.0.0.1:${sshd.port}`]);
    expect(code).toBe(0);
    const ssh = pathOf(targetOf(report, `127.0.0.1:${sshd.port}`), 'direct').service!.ssh!;
    expect(ssh.known_hosts!.status).toBe('mismatch');
    expect(ssh.known_hosts!.line).toBe(1);
    expect(ssh.known_hosts!.known_fingerprints).toHaveLength(1);
    expect(ssh.known_hosts!.known_fingerprints[0]).not.toBe(ssh.host_key!.fingerprint);
    const mismatch = report.conclusions.find((c) => c.code === 'host-key-mismatch')!;
    expect(mismatch.severity).toBe('problem');
    expect(mismatch.text).toContain('possible interception');
  });

  it('Teleport proxy through a CONNECT proxy: certificate, /webapi/ping, and its SSH address probed too', async () => {
    const sshd = await track(startKeyedSshServer());
    const teleport = await track(
      startTeleportProxy(ca, {
        ping: () => ({
          cluster_name: 'burrow-test',
          server_version: '16.4.2',
          min_client_version: '15.0.0',
          proxy: { tls_routing_enabled: false, ssh: { listen_addr: `0.0.0.0:${sshd.port}`, web_listen_addr: '0.0.0.0:3080' } },
        }),
      }),
    );
    const proxy = await track(startConnectProxy());
    const name = `localhost:${teleport.port}`;
    const { code, report } = await doctor(['-x', proxy.url, '--ca', ca.caFile, name]);
    expect(code).toBe(0);
    const target = targetOf(report, name);
    const viaProxy = pathOf(target, proxy.url);
    expect(viaProxy.status).toBe('open');
    expect(viaProxy.service!.protocol).toBe('tls');
    const cert = viaProxy.service!.tls!.certificate!;
    expect(cert.subject).toBe('CN=localhost');
    expect(cert.issuer).toBe('CN=burrow doctor test CA');
    expect(cert.issuer_name).toBe('burrow doctor test CA');
    expect(cert.verified).toBe(true);
    expect(cert.verify_error).toBeNull();
    expect(cert.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(viaProxy.service!.teleport).toEqual({
      cluster_name: 'burrow-test',
      server_version: '16.4.2',
      min_client_version: '15.0.0',
      tls_routing_enabled: false,
      ssh_address: `localhost:${sshd.port}`,
      web_address: name,
    });
    const derived = targetOf(report, `localhost:${sshd.port}`);
    expect(derived.derived_from).toBe(`${name} (Teleport SSH address)`);
    expect(pathOf(derived, 'direct').service!.protocol).toBe('ssh');
    const info = report.conclusions.find((c) => c.code === 'teleport')!;
    expect(info.text).toContain('Teleport proxy for cluster "burrow-test", version 16.4.2');
    expect(info.lines).toContain(`tsh login --proxy=localhost:${teleport.port}`);
  });

  it('a TLS-inspecting proxy shows its own CA: "TLS inspected by <issuer>"', async () => {
    const server = await track(startTeleportProxy(ca, { ping: () => ({ cluster_name: 'x', server_version: '1', proxy: {} }) }));
    const inspector = await track(startInspectingProxy(inspectCa));
    const name = `127.0.0.1:${server.port}`;
    const { report } = await doctor(['-x', inspector.url, '--ca', ca.caFile, name]);
    const target = targetOf(report, name);
    expect(pathOf(target, 'direct').service!.tls!.certificate!.issuer_name).toBe('burrow doctor test CA');
    const inspected = pathOf(target, inspector.url).service!.tls!.certificate!;
    expect(inspected.issuer_name).toBe('Corp Inspection CA');
    expect(inspected.verified).toBe(false);
    const conclusion = report.conclusions.find((c) => c.code === 'tls-inspected')!;
    expect(conclusion.severity).toBe('problem');
    expect(conclusion.text).toMatch(/^TLS inspected by Corp Inspection CA: /);
  });

  it('a Teleport proxy with TLS routing behind a TLS-inspecting proxy: ALPN does not survive, "export TELEPORT_TLS_ROUTING_CONN_UPGRADE=true"', async () => {
    let web = '';
    const teleport = await track(startTeleportProxy(ca, { ping: () => ({ cluster_name: 'routed', server_version: '16.4.2', proxy: { tls_routing_enabled: true, ssh: { public_addr: web } } }) }));
    web = `localhost:${teleport.port}`;
    const inspector = await track(startInspectingProxy(inspectCa));
    const plain = await track(startConnectProxy());
    const { report } = await doctor(['-x', inspector.url, '--ca', ca.caFile, web]);
    expect(pathOf(targetOf(report, web), inspector.url).service!.tls_routing).toMatchObject({ conn_upgrade: true, alpn: null });
    const clean = await doctor(['-x', plain.url, '--ca', ca.caFile, web]);
    expect(pathOf(targetOf(clean.report, web), plain.url).service!.tls_routing).toMatchObject({ conn_upgrade: false, alpn: 'teleport-proxy-ssh', issuer: 'burrow doctor test CA' });
    expect(clean.report.conclusions.filter((c) => c.code === 'teleport-conn-upgrade')).toHaveLength(0);
    const upgrades = report.conclusions.filter((c) => c.code === 'teleport-conn-upgrade');
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]!.severity).toBe('problem');
    expect(upgrades[0]!.text).toContain(`through ${inspector.url}, TLS routing to ${web} breaks: `);
    expect(upgrades[0]!.lines).toEqual(['export TELEPORT_TLS_ROUTING_CONN_UPGRADE=true']);
  });

  it('407 with NTLM and Negotiate offered: the schemes, and "needs NTLM" with the credentials to give', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'u', password: 'secret-pw', schemes: ['NTLM', 'Negotiate'] } }));
    const port = await closedPort();
    const { code, report } = await doctor(['-x', proxy.url, `127.0.0.1:${port}`]);
    expect(code).toBe(5);
    expect(report.exit_code).toBe(5);
    const target = targetOf(report, `127.0.0.1:${port}`);
    expect(target.reachable).toBe(false);
    expect(pathOf(target, 'direct').status).toBe('unreachable');
    const viaProxy = pathOf(target, proxy.url);
    expect(viaProxy.status).toBe('auth');
    expect(viaProxy.proxy_answer!.status_code).toBe(407);
    expect(viaProxy.proxy_answer!.auth_schemes).toEqual(['NTLM', 'Negotiate']);
    expect(report.conclusions.map((c) => c.code)).toEqual(expect.arrayContaining(['unreachable', 'proxy-needs-ntlm']));
  });

  it('never prints the proxy password, in JSON or text', async () => {
    const proxy = await track(startConnectProxy({ auth: { user: 'alice', password: 'n0t-S0-secret' } }));
    const port = await closedPort();
    const url = `http://alice:wrong-Pa55word@127.0.0.1:${proxy.port}`;
    const json = await doctor(['-x', url, `127.0.0.1:${port}`]);
    expect(pathOf(targetOf(json.report, `127.0.0.1:${port}`), `http://127.0.0.1:${proxy.port}`).credentials).toBe(true);
    expect(json.report.conclusions.map((c) => c.code)).toContain('proxy-rejects-credentials');
    const text = await runBurrow(['doctor', '-x', url, `127.0.0.1:${port}`], { env: cleanEnv({ HTTPS_PROXY: url }) });
    for (const output of [json.stdout.toString(), json.stderr, text.stdout.toString(), text.stderr]) {
      expect(output).not.toContain('wrong-Pa55word');
    }
    expect(text.stdout.toString()).toContain('conclusions');
  });

  it('a black hole: the probe times out, the run stays bounded, exit 5', async () => {
    const hole = await track(startBlackHole());
    const silentProxy = await track(startConnectProxy({ silent: true }));
    const port = await closedPort();
    const { code, report } = await doctor(['-x', silentProxy.url, '--connect-timeout', '1', `127.0.0.1:${port}`, `127.0.0.1:${hole.port}`]);
    expect(code).toBe(5);
    expect(report.complete).toBe(true);
    const dead = targetOf(report, `127.0.0.1:${port}`);
    expect(pathOf(dead, silentProxy.url).status).toBe('timeout');
    expect(pathOf(dead, silentProxy.url).error!.said).toBe('timeout');
    const silent = pathOf(targetOf(report, `127.0.0.1:${hole.port}`), 'direct');
    expect(silent.status).toBe('open');
    expect(silent.service!.protocol).toBe('silent');
  });

  it('--timeout bounds the whole run: unfinished probes are "pending" and the report says it stopped', async () => {
    const silentProxy = await track(startConnectProxy({ silent: true }));
    // A closed local port as the target: the direct probe must not reach whatever this machine runs on port 22.
    const { code, report } = await doctor(['-x', silentProxy.url, '--connect-timeout', '60', '--timeout', '1', `127.0.0.1:${await closedPort()}`]);
    expect(code).toBe(5);
    expect(report.complete).toBe(false);
    expect(report.stopped).toBe('timeout');
    expect(pathOf(report.targets[0]!, silentProxy.url).status).toBe('pending');
    expect(report.conclusions[0]!.code).toBe('incomplete');
  });

  it('Ctrl-C prints what is known so far and exits 130', async () => {
    const silentProxy = await track(startConnectProxy({ silent: true }));
    const result = await runBurrow(['doctor', '--json', '-x', silentProxy.url, '--connect-timeout', '60', '--timeout', '120', `127.0.0.1:${await closedPort()}`], {
      env: cleanEnv(),
      onSpawn: (child) => {
        let sent = false;
        child.stderr!.on('data', (chunk: Buffer) => {
          if (!sent && chunk.toString().includes('probes running')) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      },
    });
    expect(result.code).toBe(130);
    const report = JSON.parse(result.stdout.toString()) as DoctorReport;
    expect(report.complete).toBe(false);
    expect(report.stopped).toBe('interrupted');
    expect(pathOf(report.targets[0]!, silentProxy.url).status).toBe('pending');
  });

  it('--http-check: a plain-http GET direct and through the proxy (through dial, as forward --http)', async () => {
    const origin = await track(startHttpOrigin());
    const proxy = await track(startHttpForwardProxy());
    const url = `http://127.0.0.1:${origin.port}/hello`;
    const { code, report } = await doctor(['-x', proxy.url, '--http-check', url, `127.0.0.1:${origin.port}`]);
    expect(code).toBe(0);
    expect(report.http_checks).toHaveLength(1);
    const check = report.http_checks[0]!;
    expect(check.url).toBe(url);
    expect(check.reachable).toBe(true);
    expect(check.paths.map((p) => [p.via, p.status, p.status_code])).toEqual([
      ['direct', 'ok', 200],
      [proxy.url, 'ok', 200],
    ]);
    expect(check.paths[1]!.headers.via).toBe('1.1 burrow-test-proxy');
    expect(proxy.requests).toEqual([`GET ${url}`]);
  });

  it.each([
    ['no target', []],
    ['a bad port', ['example.org:99999']],
    ['an https:// --http-check', ['--http-check', 'https://example.org/', 'example.org:443']],
    ['a bad proxy URL', ['-x', 'ftp://p:21', 'example.org:22']],
  ])('exits 2 on %s, with nothing on stdout', async (_name, args) => {
    const result = await runBurrow(['doctor', '--json', ...args], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stdout.toString()).toBe('');
  });
});
