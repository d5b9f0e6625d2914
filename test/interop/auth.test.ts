// Proxy authentication against real squid: NTLM's three legs on one connection (squid's ntlm_fake_auth), Digest
// (digest_file_auth) and Basic with the password taken from ~/.netrc, each carrying a real ssh session to sshd.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SQUID_PASSWORD,
  SQUID_USER,
  cleanEnv,
  makeTempDir,
  runSsh,
  shellQuote,
  haveKerberosModule,
  startKdc,
  startSquid,
  startSshd,
  whyCannotRun,
  type KdcPeer,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const TARGET = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'sshd', 'ssh', 'ssh-keygen');

// OpenSSH expands % in the whole ProxyCommand: percent-encoded URLs need their % doubled.
const proxyCommand = (...args: string[]) => [BURROW, 'connect', '-vv', ...args.map((a) => shellQuote(a).replace(/%/g, '%%')), '%h', '%p'].join(' ');

describe.skipIf(skipReason !== undefined)(`burrow authenticates to real squid${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sshd: SshdPeer;
  let ntlmSquid: SquidPeer;
  let digestSquid: SquidPeer;
  let basicSquid: SquidPeer;
  let home: string;

  beforeAll(async () => {
    const hosts = { [TARGET]: '127.0.0.1' };
    [sshd, ntlmSquid, digestSquid, basicSquid] = await Promise.all([
      startSshd(),
      startSquid({ auth: true, authSchemes: ['ntlm', 'basic'], hosts }),
      startSquid({ auth: true, authSchemes: ['digest'], hosts }),
      startSquid({ auth: true, hosts }),
    ]);
    home = makeTempDir('auth-home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
  });

  afterAll(async () => {
    await Promise.all([sshd, ntlmSquid, digestSquid, basicSquid].filter(Boolean).map((p) => p.stop()));
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('NTLM: chooses NTLM over Basic and completes the three legs on one connection', async () => {
    const url = `http://CORP%5Calice:${encodeURIComponent('n7lm p@ss')}@127.0.0.1:${ntlmSquid.port}`;
    const result = await runSsh(sshd, 'echo ntlm-ok', { host: TARGET, proxyCommand: proxyCommand('-x', url), env: cleanEnv() });
    expect(result.stdout, result.stderr).toBe('ntlm-ok\n');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/offered=NTLM, Basic/);
    expect(result.stderr).not.toContain('n7lm p@ss');
    // The user column is what ntlm_fake_auth read from type 3; it logs one byte past each field ("CORPa\\alicev"),
    // so only "alice" in that column is checked (no user at all logs "-"). impacket verifies the message itself
    // (ntlm-verified.test.ts).
    await expect.poll(() => ntlmSquid.accessLog(), { timeout: 10_000 }).toMatch(/TCP_TUNNEL\/200 \d+ CONNECT sshd\.burrow\.test:\d+ \S*alice/i);
  });

  it('Digest: answers the nonce with the right response', async () => {
    const url = `http://${encodeURIComponent(SQUID_USER)}:${encodeURIComponent(SQUID_PASSWORD)}@127.0.0.1:${digestSquid.port}`;
    const result = await runSsh(sshd, 'echo digest-ok', { host: TARGET, proxyCommand: proxyCommand('-x', url), env: cleanEnv() });
    expect(result.stdout, result.stderr).toBe('digest-ok\n');
    const bad = await runSsh(sshd, 'true', { host: TARGET, proxyCommand: proxyCommand('-x', `http://${SQUID_USER}:wrong@127.0.0.1:${digestSquid.port}`), env: cleanEnv() });
    expect(bad.code).toBe(255);
    expect(bad.stderr).toMatch(/rejected the credentials for user "burrow" \(offered: Digest; tried: Digest\)/);
  });

  it('Basic: takes the password from ~/.netrc when the URL has none', async () => {
    writeFileSync(join(home, '.netrc'), `machine 127.0.0.1 login ${SQUID_USER} password "${SQUID_PASSWORD}"\n`, { mode: 0o600 });
    const env = cleanEnv({ HOME: home, HTTPS_PROXY: `http://127.0.0.1:${basicSquid.port}` });
    const result = await runSsh(sshd, 'echo netrc-ok', { host: TARGET, proxyCommand: proxyCommand(), env });
    expect(result.stdout, result.stderr).toBe('netrc-ok\n');
    expect(result.stderr).toContain('from=~/.netrc');
    expect(result.stderr).not.toContain(SQUID_PASSWORD);
  });
});

const kerberosSkip = whyCannotRun('squid', 'sshd', 'ssh', 'krb5kdc', 'kdb5_util', 'kadmin.local', 'kinit') ?? (haveKerberosModule() ? undefined : 'the optional kerberos npm package is not built here (needs libkrb5-dev before npm ci)');

describe.skipIf(kerberosSkip !== undefined)(`burrow speaks Negotiate to squid with a real MIT KDC${kerberosSkip ? ` (skipped: ${kerberosSkip})` : ''}`, () => {
  let kdc: KdcPeer;
  let squid: SquidPeer;
  let sshd: SshdPeer;

  beforeAll(async () => {
    kdc = await startKdc();
    await kdc.addUser('alice', 'k3rb pass');
    [squid, sshd] = await Promise.all([startSquid({ auth: true, authSchemes: ['negotiate', 'basic'], kerberos: kdc, hosts: { [TARGET]: '127.0.0.1' } }), startSshd()]);
  });

  afterAll(async () => {
    await Promise.all([squid, sshd, kdc].filter(Boolean).map((p) => p.stop()));
  });

  it('authenticates with the ticket from kinit (no password anywhere) and carries ssh', async () => {
    const ticket = await kdc.kinit('alice');
    // SPN HTTP@localhost: the proxy is named "localhost" in the URL, as the service principal HTTP/localhost says.
    const result = await runSsh(sshd, 'echo kerberos-ok', { host: TARGET, proxyCommand: proxyCommand('-x', `http://localhost:${squid.port}`), env: cleanEnv(ticket) });
    expect(result.stdout, result.stderr).toBe('kerberos-ok\n');
    expect(result.stderr).toMatch(/offered=Negotiate, Basic/);
    await expect.poll(() => squid.accessLog(), { timeout: 10_000 }).toMatch(/CONNECT sshd\.burrow\.test:\d+ alice@BURROW\.TEST/);
  });

  it('without a ticket, exits 4 and says to run kinit', async () => {
    const env = cleanEnv({ ...kdc.serverEnv, KRB5_KTNAME: undefined, KRB5CCNAME: `FILE:${join(makeTempDir('no-ticket'), 'cc')}` });
    const result = await runSsh(sshd, 'true', { host: TARGET, proxyCommand: proxyCommand('-x', `http://localhost:${squid.port}`), env });
    expect(result.code).toBe(255);
    expect(result.stderr, result.stderr).toMatch(/kinit/);
  });
});
