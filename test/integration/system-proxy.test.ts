// GNOME's and KDE's proxy settings read for real: gsettings over a dconf database written in a private D-Bus
// session in a temp HOME, and a kioslaverc file. (Routing ssh through them to a real squid: test/interop/system-proxy.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFileOrUndefined, readSystemProxy, runCommandWith } from '../../src/route/system/read.ts';
import { desktopEnv, HAVE_GSETTINGS, setGnomeSettings, writeKioslaverc } from '../helpers/desktop-settings.ts';
import { cleanEnv } from '../helpers/run-burrow.ts';

const homes: string[] = [];
const newHome = (): string => {
  const home = mkdtempSync(join(tmpdir(), 'burrow-desktop-'));
  homes.push(home);
  return home;
};
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

const read = (env: NodeJS.ProcessEnv) => readSystemProxy({ env, platform: 'linux', run: runCommandWith(env), readFile: readFileOrUndefined });

describe.skipIf(!HAVE_GSETTINGS)('GNOME settings through gsettings and dconf', () => {
  it('manual mode with ignore-hosts', async () => {
    const home = newHome();
    setGnomeSettings(home, [
      ['org.gnome.system.proxy', 'mode', "'manual'"],
      ['org.gnome.system.proxy.https', 'host', "'proxy.corp.example'"],
      ['org.gnome.system.proxy.https', 'port', '3128'],
      ['org.gnome.system.proxy', 'ignore-hosts', "['localhost', '*.lab.example', '10.0.0.0/8']"],
    ]);
    const reading = await read(cleanEnv(desktopEnv(home, 'GNOME')));
    expect(reading.from).toBe('gsettings list-recursively org.gnome.system.proxy');
    expect(reading.settings).toMatchObject({ mode: 'manual', proxy: 'http://proxy.corp.example:3128', bypass: ['localhost', '*.lab.example', '10.0.0.0/8'] });
  });

  it('auto mode with an autoconfig-url', async () => {
    const home = newHome();
    setGnomeSettings(home, [
      ['org.gnome.system.proxy', 'mode', "'auto'"],
      ['org.gnome.system.proxy', 'autoconfig-url', "'http://pac.corp.example/proxy.pac'"],
    ]);
    expect((await read(cleanEnv(desktopEnv(home, 'GNOME')))).settings).toMatchObject({ mode: 'auto', pacUrl: 'http://pac.corp.example/proxy.pac' });
  });

  it('defaults (nothing set): mode none', async () => {
    const home = newHome();
    expect((await read(cleanEnv(desktopEnv(home, 'GNOME')))).settings?.mode).toBe('none');
  });
});

describe('KDE settings from kioslaverc', () => {
  it('manual, KDE 5 "scheme://host port" form', async () => {
    const home = newHome();
    const file = writeKioslaverc(home, ['ProxyType=1', 'httpsProxy=http://proxy.corp.example 3128', 'NoProxyFor=localhost,.lab.example']);
    const reading = await read(cleanEnv(desktopEnv(home, 'KDE')));
    expect(reading.from).toBe(file);
    expect(reading.settings).toMatchObject({ mode: 'manual', proxy: 'http://proxy.corp.example:3128', bypass: ['localhost', '.lab.example'], origin: `KDE proxy settings (${file})` });
  });
  it('no kioslaverc: nothing', async () => {
    const reading = await read(cleanEnv(desktopEnv(newHome(), 'KDE')));
    expect(reading.settings).toBeUndefined();
  });
});
