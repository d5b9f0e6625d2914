// The environment every spawned burrow, daemon and client starts from: the caller's, without what would steer it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The test process's environment without proxy variables, burrow's own variables, desktop proxy settings, remembered
 * state or an ssh agent, so that the developer's settings never leak into a test; `extra` adds variables (undefined
 * removes one).
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/_proxy$/i.test(key) || /^BURROW_/i.test(key) || key === 'SSH_AUTH_SOCK' || key === 'SSH_AGENT_PID') continue;
    env[key] = value;
  }
  // The developer's own ~/.config/burrow/config.yaml must not steer a test either: point at a directory that is not there.
  env.XDG_CONFIG_HOME = join(tmpdir(), 'burrow-tests-no-config');
  // Nor the desktop's proxy settings (GNOME, KDE, macOS, Windows): tests of those turn them back on.
  delete env.XDG_CURRENT_DESKTOP;
  env.BURROW_SYSTEM_PROXY = 'off';
  // Nor what burrow remembered between runs (PAC answers, tsh probes) in ~/.cache, or in an earlier test run: one
  // fresh state directory per test process.
  env.XDG_CACHE_HOME = testCacheHome();
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

let cacheHome: string | undefined;
function testCacheHome(): string {
  cacheHome ??= mkdtempSync(join(tmpdir(), 'burrow-tests-cache-'));
  return cacheHome;
}
