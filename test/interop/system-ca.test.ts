// What the machine trusts, burrow trusts: an https:// proxy made of a real TLS terminator (stunnel4) in front of a
// real squid, its certificate issued by a test CA that is (1) installed into the system store with
// update-ca-certificates, or (2) named by SSL_CERT_FILE alone, or (3) in NODE_EXTRA_CA_CERTS next to an unrelated
// --proxy-ca. OpenSSH runs `burrow connect %h %p` end to end; NODE_EXTRA_CA_CERTS is unset unless a case sets it.
// A second stunnel with a certificate from a CA nobody trusts must still be refused with the usual message.
//
// Case (1) changes the machine, so it runs only as root with BURROW_TEST_SYSTEM_CA=1 (.ci/run sets it;
// test/helpers/system-ca.ts), and removes the CA afterwards.
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/types.ts';
import { cleanEnv, run, runSsh, shellQuote, startSquid, startSshd, startStunnel, whyCannotRun, type Peer, type RunResult, type SquidPeer, type SshdPeer } from '../helpers/real-peers.ts';
import { installSystemCa, whyNoSystemCa } from '../helpers/system-ca.ts';
import { makeTestCa, type TestCa } from '../helpers/tls-proxy.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const TARGET_NAME = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'stunnel4', 'sshd', 'ssh', 'ssh-keygen', 'openssl');
const systemSkip = skipReason ?? whyNoSystemCa();
const title = (name: string, reason = skipReason): string => (reason ? `${name} (skipped: ${reason})` : name);

/** No CA setting of the developer's or CI's environment may help: each case sets exactly what it tests. */
const trustEnv = (extra: Record<string, string> = {}) => cleanEnv({ NODE_EXTRA_CA_CERTS: undefined, SSL_CERT_FILE: undefined, SSL_CERT_DIR: undefined, ...extra });

describe.skipIf(skipReason !== undefined)(title('https:// proxy (stunnel + squid) trusted through the system store'), () => {
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let trusted: Peer;
  let unknown: Peer;
  let ca: TestCa;
  let otherCa: TestCa;

  beforeAll(async () => {
    ca = makeTestCa('burrow system-store test CA');
    otherCa = makeTestCa('burrow CA nobody trusts');
    [sshd, squid] = await Promise.all([startSshd(), startSquid({ hosts: { [TARGET_NAME]: '127.0.0.1' } })]);
    [trusted, unknown] = await Promise.all([startStunnel({ cert: ca.cert, key: ca.key, backend: squid }), startStunnel({ cert: otherCa.cert, key: otherCa.key, backend: squid })]);
  });
  afterAll(async () => {
    await Promise.all([trusted, unknown, squid, sshd].filter(Boolean).map((p) => p.stop()));
  });

  const sshThrough = (proxy: Peer, env: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> =>
    runSsh(sshd, 'echo hello through stunnel', {
      host: TARGET_NAME,
      proxyCommand: [BURROW, 'connect', '%h', '%p', ...args.map(shellQuote)].join(' '),
      env: { ...env, HTTPS_PROXY: proxy.url },
      timeoutMs: 60_000,
    });
  const explain = (result: RunResult, ...peers: Peer[]) => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}\n${peers.map((p) => p.logTail(20)).join('\n')}`;
  const doctor = async (env: NodeJS.ProcessEnv, target: string): Promise<DoctorReport> => {
    const result = await run(process.execPath, [BURROW, 'doctor', '--json', '--direct', target], { env, timeoutMs: 60_000 });
    return JSON.parse(result.stdout) as DoctorReport;
  };
  const certificateOf = (report: DoctorReport) => report.targets[0]!.paths.find((p) => p.via === 'direct')!.service!.tls!.certificate!;

  it.skipIf(systemSkip !== undefined)(title('a CA installed with update-ca-certificates: ssh works without --proxy-ca, doctor calls it trusted by the system store', systemSkip), async () => {
    const installed = installSystemCa(ca.caFile, 'burrow-interop-test-ca');
    try {
      const ssh = await sshThrough(trusted, trustEnv());
      expect(ssh.code, explain(ssh, trusted, squid)).toBe(0);
      expect(ssh.stdout).toBe('hello through stunnel\n');
      expect(squid.accessLog()).toMatch(new RegExp(`CONNECT ${TARGET_NAME.replace(/\./g, '\\.')}:${sshd.port}`));

      const cert = certificateOf(await doctor(trustEnv(), `localhost:${trusted.port}`));
      expect(cert.issuer_name).toBe('burrow system-store test CA');
      expect(cert.verified).toBe(true);
      expect(cert.trusted_by).toEqual({ origins: ['system'], name: 'burrow system-store test CA' });
    } finally {
      installed.remove();
    }
    // And once removed, it is no longer trusted: the store really came from the system.
    const after = await sshThrough(trusted, trustEnv());
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain(`burrow: TLS to the proxy ${trusted.url} failed: unable to verify the first certificate`);
  });

  it('SSL_CERT_FILE alone is enough (as for OpenSSL and Go), and doctor names the system store', async () => {
    const ssh = await sshThrough(trusted, trustEnv({ SSL_CERT_FILE: ca.caFile }));
    expect(ssh.code, explain(ssh, trusted, squid)).toBe(0);
    expect(ssh.stdout).toBe('hello through stunnel\n');
    const cert = certificateOf(await doctor(trustEnv({ SSL_CERT_FILE: ca.caFile }), `localhost:${trusted.port}`));
    expect(cert.verified).toBe(true);
    expect(cert.trusted_by).toEqual({ origins: ['system'], name: 'burrow system-store test CA' });
  });

  it('SSL_CERT_DIR with an OpenSSL hash link works too', async () => {
    const dir = join(ca.dir, 'certs');
    mkdirSync(dir, { recursive: true });
    copyFileSync(ca.caFile, join(dir, 'corp.pem'));
    symlinkSync('corp.pem', join(dir, 'abcdef12.0'));
    const ssh = await sshThrough(trusted, trustEnv({ SSL_CERT_DIR: dir }));
    expect(ssh.code, explain(ssh, trusted, squid)).toBe(0);
  });

  it('NODE_EXTRA_CA_CERTS still counts when --proxy-ca adds another CA (Node\'s ca: option used to drop it)', async () => {
    const unrelated = join(otherCa.dir, 'unrelated.pem');
    writeFileSync(unrelated, makeTestCa('an unrelated CA').cert);
    const ssh = await sshThrough(trusted, trustEnv({ NODE_EXTRA_CA_CERTS: ca.caFile }), '--proxy-ca', unrelated);
    expect(ssh.code, explain(ssh, trusted, squid)).toBe(0);
    expect(ssh.stdout).toBe('hello through stunnel\n');
  });

  it('a CA nobody trusts is refused with the usual message (exit 5, names the proxy, suggests --proxy-ca)', async () => {
    const result = await run(process.execPath, [BURROW, 'connect', TARGET_NAME, String(sshd.port)], { env: trustEnv({ HTTPS_PROXY: unknown.url, SSL_CERT_FILE: ca.caFile }), timeoutMs: 30_000 });
    expect(result.code).toBe(5);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`burrow: TLS to the proxy ${unknown.url} failed: unable to verify the first certificate; hint: the proxy's certificate is not trusted: pass its CA with --proxy-ca FILE`);
  });
});
