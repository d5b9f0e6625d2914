// --proxy-header and headers: against real squid that admits only browsers' User-Agents (`acl … browser`, as some
// corporate proxies do): burrow's own User-Agent gets 403; with a Mozilla one, ssh runs through it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeTempDir, runSsh, shellQuote, startSquid, startSshd, whyCannotRun, type SquidPeer, type SshdPeer } from '../helpers/real-peers.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const TARGET = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'sshd', 'ssh', 'ssh-keygen');
const proxyCommand = (...args: string[]) => [BURROW, 'connect', ...args.map((a) => shellQuote(a).replace(/%/g, '%%')), '%h', '%p'].join(' ');

describe.skipIf(skipReason !== undefined)(`extra proxy headers with real squid${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let work: string;
  beforeAll(async () => {
    [sshd, squid] = await Promise.all([startSshd(), startSquid({ userAgent: '^Mozilla/', hosts: { [TARGET]: '127.0.0.1' } })]);
    work = makeTempDir('proxy-headers');
  });
  afterAll(async () => {
    await Promise.all([sshd, squid].filter(Boolean).map((p) => p.stop()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('burrow\'s own User-Agent is refused (exit 3); --proxy-header with a browser\'s gets through', async () => {
    const refused = await runSsh(sshd, 'echo ua-ok', { host: TARGET, proxyCommand: proxyCommand('-x', squid.url), env: cleanEnv(), timeoutMs: 30_000 });
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/403/);
    const admitted = await runSsh(sshd, 'echo ua-ok', { host: TARGET, proxyCommand: proxyCommand('-x', squid.url, '--proxy-header', 'User-Agent: Mozilla/5.0 (X11; Linux x86_64)'), env: cleanEnv(), timeoutMs: 30_000 });
    expect(admitted.stdout, admitted.stderr).toBe('ua-ok\n');
  });

  it('headers: in the config file do the same', async () => {
    const xdg = join(work, 'xdg');
    mkdirSync(join(xdg, 'burrow'), { recursive: true });
    writeFileSync(join(xdg, 'burrow', 'config.yaml'), 'headers:\n  User-Agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"\n');
    const result = await runSsh(sshd, 'echo ua-ok', { host: TARGET, proxyCommand: proxyCommand('-x', squid.url), env: cleanEnv({ XDG_CONFIG_HOME: xdg }), timeoutMs: 30_000 });
    expect(result.stdout, result.stderr).toBe('ua-ok\n');
  });
});
