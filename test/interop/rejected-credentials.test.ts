// Lockout-safe credentials against real squid speaking NTLM (ntlm_fake_auth does the real three-leg exchange; a
// proxy_auth deny ACL makes squid re-challenge the user "bob" after his type-3 message, which is what a domain
// controller's "wrong password" looks like to a client). squid's access.log shows each type-3 attempt as a
// TCP_DENIED/407 line carrying the user name: the wrong password must reach it once, not once per ssh.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeTempDir, runSsh, shellQuote, startSquid, startSshd, whyCannotRun, type SquidPeer, type SshdPeer } from '../helpers/real-peers.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const TARGET = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'sshd', 'ssh', 'ssh-keygen');
const proxyCommand = (...args: string[]) => [BURROW, 'connect', '-v', ...args.map((a) => shellQuote(a).replace(/%/g, '%%')), '%h', '%p'].join(' ');

describe.skipIf(skipReason !== undefined)(`a password real NTLM squid rejected is sent once${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let work: string;

  beforeAll(async () => {
    [sshd, squid] = await Promise.all([startSshd(), startSquid({ auth: true, authSchemes: ['ntlm'], rejectUsers: ['bob'], hosts: { [TARGET]: '127.0.0.1' } })]);
    work = makeTempDir('rejected-credentials');
  });
  afterAll(async () => {
    await Promise.all([sshd, squid].filter(Boolean).map((p) => p.stop()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const bobAttempts = () => squid.accessLog().split('\n').filter((line) => /TCP_DENIED\/407 .*CONNECT sshd\.burrow\.test:\d+ \S*bob\S* /i.test(line)).length;

  it('two ssh runs with a wrong password: squid sees it once; the second run says why; a right user still works', async () => {
    const env = cleanEnv({ XDG_CACHE_HOME: mkdtempSync(join(work, 'cache-')) });
    const wrong = `http://CORP%5Cbob:${encodeURIComponent('wr0ng p@ss')}@127.0.0.1:${squid.port}`;
    const first = await runSsh(sshd, 'true', { host: TARGET, proxyCommand: proxyCommand('-x', wrong), env });
    expect(first.code).toBe(255);
    expect(first.stderr).toMatch(/rejected the credentials for user "CORP\\bob"/);
    await expect.poll(bobAttempts, { timeout: 10_000 }).toBe(1);

    const second = await runSsh(sshd, 'true', { host: TARGET, proxyCommand: proxyCommand('-x', wrong), env });
    expect(second.code).toBe(255);
    expect(second.stderr).toMatch(/not sending the password for user "CORP\\bob"/);

    // A run that squid logs after anything the second run could have sent: once alice's line is there, bob's count is final.
    const alice = `http://CORP%5Calice:${encodeURIComponent('any')}@127.0.0.1:${squid.port}`;
    const ok = await runSsh(sshd, 'echo alice-ok', { host: TARGET, proxyCommand: proxyCommand('-x', alice), env });
    expect(ok.stdout, ok.stderr).toBe('alice-ok\n');
    await expect.poll(() => squid.accessLog(), { timeout: 10_000 }).toMatch(/TCP_TUNNEL\/200 .*CONNECT sshd\.burrow\.test:\d+ \S*alice/i);
    expect(bobAttempts()).toBe(1);
  });
});
