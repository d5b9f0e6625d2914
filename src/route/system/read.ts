import { join } from 'node:path';
import type { Environment } from '../environment.ts';
import type { RunCommand, SystemProxyKind, SystemProxySettings } from './types.ts';

// Which desktop's settings apply, and reading them: one command (gsettings, scutil, reg) or one file (kioslaverc).
// Called only when nothing else decided a route (resolve.ts), at most once per run (cached there).
//
// BURROW_SYSTEM_PROXY=off turns this off (a server with a desktop session's leftovers); =gnome|kde|macos|windows
// picks one; otherwise the platform decides, and on Linux the desktop session (XDG_CURRENT_DESKTOP) does: outside
// a GNOME or KDE session nothing is spawned.

export const SYSTEM_PROXY_KINDS = ['gnome', 'kde', 'macos', 'windows'] as const;

// Desktops that keep their proxy in org.gnome.system.proxy (GLib's resolver reads it for all of them).
const GNOME_LIKE = ['gnome', 'unity', 'cinnamon', 'x-cinnamon', 'budgie', 'pantheon', 'mate', 'deepin'];

export function systemProxyKind(env: Environment, platform: NodeJS.Platform): SystemProxyKind | 'off' | undefined {
  const chosen = env.BURROW_SYSTEM_PROXY?.trim().toLowerCase();
  if (chosen === 'off' || chosen === '0' || chosen === 'no') return 'off';
  if (chosen && (SYSTEM_PROXY_KINDS as readonly string[]).includes(chosen)) return chosen as SystemProxyKind;
  if (platform === 'darwin') return 'macos';
  if (platform === 'win32') return 'windows';
  const desktops = (env.XDG_CURRENT_DESKTOP ?? '').toLowerCase().split(':');
  if (desktops.includes('kde')) return 'kde';
  if (desktops.some((d) => GNOME_LIKE.includes(d))) return 'gnome';
  return undefined;
}

export interface SystemReading {
  settings?: SystemProxySettings;
  /** How long reading took (ms), for the log. */
  ms: number;
  /** What was read: a command line or a file. */
  from?: string;
  /** Why nothing was read. */
  skipped?: string;
}

export interface ReadSystemOptions {
  env: Environment;
  platform: NodeJS.Platform;
  run: RunCommand;
  readFile: (path: string) => string | undefined;
}

export async function readSystemProxy(options: ReadSystemOptions): Promise<SystemReading> {
  const started = performance.now();
  const kind = systemProxyKind(options.env, options.platform);
  const done = (reading: Omit<SystemReading, 'ms'>): SystemReading => ({ ...reading, ms: Math.round((performance.now() - started) * 10) / 10 });
  if (kind === 'off') return done({ skipped: 'BURROW_SYSTEM_PROXY=off' });
  if (kind === undefined) return done({ skipped: 'no GNOME or KDE session (XDG_CURRENT_DESKTOP), not macOS or Windows' });
  switch (kind) {
    case 'gnome': {
      const { GNOME_SCHEMA, parseGsettings } = await import('./gnome.ts');
      const args = ['list-recursively', GNOME_SCHEMA];
      const text = options.run('gsettings', args);
      return done(text === undefined ? { skipped: 'gsettings failed or is not installed', from: `gsettings ${args.join(' ')}` } : { settings: parseGsettings(text), from: `gsettings ${args.join(' ')}` });
    }
    case 'kde': {
      const { parseKioslaverc } = await import('./kde.ts');
      const file = kioslavercPath(options.env);
      const text = file === undefined ? undefined : options.readFile(file);
      return done(text === undefined ? { skipped: `no ${file ?? 'kioslaverc'}`, ...(file ? { from: file } : {}) } : { settings: parseKioslaverc(text, file), from: file });
    }
    case 'macos': {
      const { parseScutilProxy } = await import('./macos.ts');
      const text = options.run('scutil', ['--proxy']);
      return done(text === undefined ? { skipped: 'scutil --proxy failed', from: 'scutil --proxy' } : { settings: parseScutilProxy(text), from: 'scutil --proxy' });
    }
    case 'windows': {
      const { WINDOWS_KEY, parseRegQuery } = await import('./windows.ts');
      const text = options.run('reg', ['query', WINDOWS_KEY]);
      return done(text === undefined ? { skipped: 'reg query failed', from: `reg query ${WINDOWS_KEY}` } : { settings: parseRegQuery(text), from: `reg query ${WINDOWS_KEY}` });
    }
  }
}

/** Reading for real: this platform, its commands (bounded), its files. */
export function systemReadOptions(env: Environment): ReadSystemOptions {
  return { env, platform: process.platform, run: runCommandWith(env), readFile: readFileOrUndefined };
}

/** KDE's kioslaverc: $XDG_CONFIG_HOME/kioslaverc, else ~/.config/kioslaverc. */
export function kioslavercPath(env: Environment): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base === undefined ? undefined : join(base, 'kioslaverc');
}

/** The real reading command: bounded (2 s), no stdin, stderr dropped, the run's environment. */
export function runCommandWith(env: Environment): RunCommand {
  return (file, args) => {
    const { spawnSync } = process.getBuiltinModule('node:child_process');
    const result = spawnSync(file, args, { env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 20, windowsHide: true });
    return result.status === 0 && typeof result.stdout === 'string' ? result.stdout : undefined;
  };
}

export function readFileOrUndefined(path: string): string | undefined {
  try {
    return process.getBuiltinModule('node:fs').readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
