import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Real desktop proxy settings for tests, in a temp HOME: GNOME's through gsettings with the dconf backend inside a
// private `dbus-run-session` (writing needs dconf's D-Bus service; reading does not), KDE's as a kioslaverc file.

export const HAVE_GSETTINGS =
  spawnSync('dbus-run-session', ['--', 'gsettings', 'list-keys', 'org.gnome.system.proxy'], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } }).status === 0;

/** The environment a desktop session in `home` would have (GNOME or KDE), without any proxy variable. */
export function desktopEnv(home: string, desktop: 'GNOME' | 'KDE'): Record<string, string | undefined> {
  return { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), XDG_CURRENT_DESKTOP: desktop, BURROW_SYSTEM_PROXY: undefined, GSETTINGS_BACKEND: 'dconf', DBUS_SESSION_BUS_ADDRESS: undefined };
}

/** `gsettings set SCHEMA KEY VALUE` for each entry (VALUE in GVariant text), in one private D-Bus session. */
export function setGnomeSettings(home: string, settings: Array<[schema: string, key: string, value: string]>): void {
  mkdirSync(join(home, '.config'), { recursive: true });
  const script = settings.map(([schema, key, value]) => `gsettings set ${schema} ${key} ${shq(value)}`).join(' && ');
  const result = spawnSync('dbus-run-session', ['--', 'sh', '-c', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GSETTINGS_BACKEND: 'dconf' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.status !== 0) throw new Error(`gsettings set failed: ${result.stderr}`);
}

export function writeKioslaverc(home: string, lines: string[]): string {
  const dir = join(home, '.config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kioslaverc');
  writeFileSync(file, `[General]\nsomething=else\n\n[Proxy Settings]\n${lines.join('\n')}\n`);
  return file;
}

function shq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
