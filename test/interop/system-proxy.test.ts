// The desktop's proxy settings route OpenSSH through real squid when no proxy variable is set: GNOME's
// org.gnome.system.proxy written with gsettings (dconf, private D-Bus session, temp HOME) in manual and auto (PAC)
// mode, and KDE's kioslaverc. sshd.burrow.test resolves only inside squid (its hosts_file), so an ssh that reaches
// sshd by that name went through squid; the machine's own loopback name from /etc/hosts (not "localhost", so no
// loopback rule applies) is in each desktop's ignore list and must go direct (squid never sees it).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../peers/run.ts';
import { desktopEnv, HAVE_GSETTINGS, setGnomeSettings, writeKioslaverc } from '../helpers/desktop-settings.ts';
import { cleanEnv, closedPort, makeTempDir, runSsh, shellQuote, startSquid, startSshd, whyCannotRun, type SquidPeer, type SshdPeer } from '../helpers/real-peers.ts';
import { loopbackNameFromHosts } from '../helpers/wrap-peers.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const TARGET = 'sshd.burrow.test';
const LOCAL = loopbackNameFromHosts();
const skipReason = whyCannotRun('squid', 'sshd', 'ssh', 'ssh-keygen') ?? (HAVE_GSETTINGS ? undefined : 'gsettings with dconf is not installed') ?? (LOCAL?.address === '127.0.0.1' ? undefined : 'no name for 127.0.0.1 in /etc/hosts');
const proxyCommand = [BURROW, 'connect', '-v', '%h', '%p'].map((w) => (w.startsWith('%') ? w : shellQuote(w))).join(' ');

describe.skipIf(skipReason !== undefined)(`desktop proxy settings route ssh through real squid${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let work: string;
  let homes = 0;

  beforeAll(async () => {
    [sshd, squid] = await Promise.all([startSshd(), startSquid({ hosts: { [TARGET]: '127.0.0.1' } })]);
    work = makeTempDir('system-proxy');
  });
  afterAll(async () => {
    await Promise.all([sshd, squid].filter(Boolean).map((p) => p.stop()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const newHome = (): string => {
    const home = join(work, `home-${++homes}`);
    mkdirSync(home, { recursive: true });
    return home;
  };
  const ssh = (host: string, env: NodeJS.ProcessEnv) => runSsh(sshd, 'echo via-desktop', { host, proxyCommand, env, timeoutMs: 30_000 });
  const routeJson = async (host: string, env: NodeJS.ProcessEnv) => {
    const result = await run(BURROW, ['route', '--json', host, String(sshd.port)], { env, timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as { plan: Array<{ hops: string[]; source: string; reason: string }> };
  };
  const connects = (host: string) => squid.accessLog().split('\n').filter((l) => l.includes(`CONNECT ${host}:${sshd.port}`)).length;

  /** ssh by the proxied name goes through squid; by the excepted name, direct; a variable still wins. */
  async function checkDesktop(env: NodeJS.ProcessEnv, source: RegExp): Promise<void> {
    const before = connects(TARGET);
    const proxied = await ssh(TARGET, env);
    expect(proxied.stdout, proxied.stderr).toBe('via-desktop\n');
    await expect.poll(() => connects(TARGET), { timeout: 10_000 }).toBe(before + 1);

    const plan = await routeJson(TARGET, env);
    expect(plan.plan[0]!.hops).toEqual([`http://127.0.0.1:${squid.port}`]);
    expect(`${plan.plan[0]!.source} ${plan.plan[0]!.reason}`).toMatch(source);

    const direct = await ssh(LOCAL!.name, env);
    expect(direct.stdout, direct.stderr).toBe('via-desktop\n');
    expect(direct.stderr).toMatch(/route=direct/);
    expect(connects(LOCAL!.name)).toBe(0);

    // A proxy variable keeps winning over the desktop: here a dead one, so ssh fails and says which.
    const dead = await closedPort();
    const withVariable = await ssh(TARGET, { ...env, HTTPS_PROXY: `http://127.0.0.1:${dead}` });
    expect(withVariable.code).toBe(255);
    expect(withVariable.stderr).toContain(`http://127.0.0.1:${dead}`);
    expect((await routeJson(TARGET, { ...env, HTTPS_PROXY: `http://127.0.0.1:${dead}` })).plan[0]!.source).toBe('HTTPS_PROXY');
  }

  it('GNOME, manual mode (https host and port, ignore-hosts)', async () => {
    const home = newHome();
    setGnomeSettings(home, [
      ['org.gnome.system.proxy', 'mode', "'manual'"],
      ['org.gnome.system.proxy.https', 'host', "'127.0.0.1'"],
      ['org.gnome.system.proxy.https', 'port', String(squid.port)],
      ['org.gnome.system.proxy', 'ignore-hosts', `['${LOCAL!.name}', '*.example.org']`],
    ]);
    await checkDesktop(cleanEnv(desktopEnv(home, 'GNOME')), /GNOME proxy settings \(org\.gnome\.system\.proxy\).*read from `gsettings list-recursively org\.gnome\.system\.proxy` in [\d.]+ ms/);
  });

  it('GNOME, auto mode: the autoconfig-url PAC names squid', async () => {
    const home = newHome();
    const pac = join(home, 'proxy.pac');
    writeFileSync(pac, `function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:${squid.port}"; }\n`);
    setGnomeSettings(home, [
      ['org.gnome.system.proxy', 'mode', "'auto'"],
      ['org.gnome.system.proxy', 'autoconfig-url', `'${pathToFileURL(pac).href}'`],
      ['org.gnome.system.proxy', 'ignore-hosts', `['${LOCAL!.name}']`],
    ]);
    await checkDesktop(cleanEnv(desktopEnv(home, 'GNOME')), /^PAC .*from GNOME proxy settings \(org\.gnome\.system\.proxy\).*say auto/);
  });

  it('KDE, kioslaverc in the KDE 5 "scheme://host port" form, NoProxyFor', async () => {
    const home = newHome();
    writeKioslaverc(home, ['ProxyType=1', `httpsProxy=http://127.0.0.1 ${squid.port}`, `NoProxyFor=${LOCAL!.name},.example.org`]);
    await checkDesktop(cleanEnv(desktopEnv(home, 'KDE')), /KDE proxy settings \(.*kioslaverc\)/);
  });
});
