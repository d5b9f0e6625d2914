// `burrow doctor --json` against real daemons (test/helpers/real-peers.ts): a squid that allows CONNECT to 443 only,
// a squid with Basic auth (407 and the offered schemes when no credentials are given), dante, and a real sshd whose
// host key is compared with a known_hosts file (match, and a mismatch). Field by field, never wall-clock times.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport, PathJson, TargetJson } from '../../src/doctor/types.ts';
import { SQUID_PASSWORD, SQUID_USER, cleanEnv, run, startDante, startSquid, startSshd, whyCannotRun, withCredentials, type Peer, type SquidPeer, type SshdPeer } from '../helpers/real-peers.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const skipReason = whyCannotRun('squid', 'danted', 'sshd', 'ssh-keygen');
const title = (name: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : name);

describe.skipIf(skipReason !== undefined)(title('burrow doctor against real squid, dante and sshd'), () => {
  let sshd: SshdPeer;
  let squid443: SquidPeer;
  let squidAuth: SquidPeer;
  let dante: Peer;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'burrow-doctor-interop-'));
    [sshd, squid443, squidAuth, dante] = await Promise.all([startSshd(), startSquid({ connectPorts: [443] }), startSquid({ auth: true }), startDante()]);
  });
  afterAll(async () => {
    await Promise.all([sshd, squid443, squidAuth, dante].filter(Boolean).map((p) => p.stop()));
  });

  const doctor = async (args: string[]): Promise<{ code: number | null; report: DoctorReport; stderr: string; stdout: string }> => {
    const result = await run(process.execPath, [BURROW, 'doctor', '--json', '--connect-timeout', '10', ...args], { env: cleanEnv(), timeoutMs: 60_000 });
    let report: DoctorReport;
    try {
      report = JSON.parse(result.stdout) as DoctorReport;
    } catch {
      throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
    }
    return { code: result.code, report, stderr: result.stderr, stdout: result.stdout };
  };
  const target = (report: DoctorReport): TargetJson => report.targets[0]!;
  const path = (t: TargetJson, via: string): PathJson => t.paths.find((p) => p.via === via)!;

  it('squid allowing only 443: 403 for the SSH port, direct works, sshd banner and key match known_hosts', async () => {
    const knownHosts = join(work, 'known_hosts.match');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    const { code, report } = await doctor(['--known-hosts', knownHosts, '-x', squid443.url, `127.0.0.1:${sshd.port}`]);
    expect(code).toBe(0);
    const t = target(report);
    expect(t.reachable).toBe(true);
    const viaSquid = path(t, squid443.url);
    expect(viaSquid.in_route).toBe(true);
    expect(viaSquid.status).toBe('refused');
    expect(viaSquid.proxy_answer!.status_code).toBe(403);
    expect(viaSquid.proxy_answer!.status_line).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(viaSquid.proxy_answer!.detail).toMatch(/^ERR_ACCESS_DENIED/);
    const direct = path(t, 'direct');
    expect(direct.status).toBe('open');
    expect(direct.service!.protocol).toBe('ssh');
    expect(direct.service!.ssh!.banner).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(direct.service!.ssh!.host_key!.type).toBe('ssh-ed25519');
    expect(direct.service!.ssh!.known_hosts).toEqual({ status: 'match', file: knownHosts, line: 1, known_fingerprints: [] });
    const advice = report.conclusions.find((c) => c.code === 'use-no-proxy')!;
    expect(advice.text).toContain(`refuses port ${sshd.port} but direct works`);
    expect(advice.lines).toEqual([`--no-proxy 127.0.0.1:${sshd.port}`]);
  });

  it('the sshd host key differing from known_hosts is flagged as possible interception', async () => {
    const knownHosts = join(work, 'known_hosts.mismatch');
    // Another ed25519 key for the same name: what ssh would call "REMOTE HOST IDENTIFICATION HAS CHANGED".
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDbXhE0r4Y3hfpGMnhdqgd7b2t4hBx0Qi1ou2wG8sXxP';
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${other}\n`);
    const { report } = await doctor(['--known-hosts', knownHosts, '--direct', `127.0.0.1:${sshd.port}`]);
    const ssh = path(target(report), 'direct').service!.ssh!;
    expect(ssh.known_hosts!.status).toBe('mismatch');
    expect(ssh.known_hosts!.known_fingerprints).toHaveLength(1);
    expect(ssh.known_hosts!.known_fingerprints[0]).not.toBe(ssh.host_key!.fingerprint);
    expect(report.conclusions.find((c) => c.code === 'host-key-mismatch')!.text).toContain('possible interception');
  });

  it('squid with Basic auth and no credentials: 407 with the offered schemes; with credentials: open', async () => {
    const name = `127.0.0.1:${sshd.port}`;
    const bare = await doctor(['-x', squidAuth.url, name]);
    const refused = path(target(bare.report), squidAuth.url);
    expect(refused.status).toBe('auth');
    expect(refused.credentials).toBe(false);
    expect(refused.proxy_answer!.status_code).toBe(407);
    expect(refused.proxy_answer!.auth_schemes).toEqual(['Basic']);
    expect(bare.report.conclusions.find((c) => c.code === 'proxy-needs-credentials')!.lines).toEqual([`export HTTPS_PROXY=http://USER:PASSWORD@127.0.0.1:${squidAuth.port}`]);

    const withAuth = await doctor(['-x', withCredentials(squidAuth.url, SQUID_USER, SQUID_PASSWORD), name]);
    const open = path(target(withAuth.report), squidAuth.url);
    expect(open.status).toBe('open');
    expect(open.credentials).toBe(true);
    expect(open.service!.ssh!.banner).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(withAuth.stdout + withAuth.stderr).not.toContain(encodeURIComponent(SQUID_PASSWORD));
    expect(withAuth.stdout + withAuth.stderr).not.toContain(SQUID_PASSWORD);
  });

  it('dante (socks5h): the same host key through the proxy as direct, the route ProxyCommand lines', async () => {
    const { code, report } = await doctor(['-x', dante.url, `127.0.0.1:${sshd.port}`]);
    expect(code).toBe(0);
    const t = target(report);
    const viaDante = path(t, dante.url);
    expect(viaDante.status).toBe('open');
    expect(viaDante.service!.protocol).toBe('ssh');
    expect(viaDante.service!.ssh!.host_key!.fingerprint).toBe(path(t, 'direct').service!.ssh!.host_key!.fingerprint);
    expect(report.conclusions.map((c) => c.code)).not.toContain('host-key-differs-by-path');
    expect(report.conclusions.find((c) => c.code === 'use-proxycommand')!.lines).toEqual(['Host 127.0.0.1', `    Port ${sshd.port}`, '    ProxyCommand burrow connect %h %p']);
  });
});
