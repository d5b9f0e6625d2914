// The environment every spawned burrow, daemon and client starts from: the caller's, without what would steer it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Variables that would steer burrow, ssh or Node from the developer's own setup: an ssh agent, a netrc file with a
 * `default` line (which changes the exit-4 tests), Node options, and the home directory itself (replaced by an empty
 * one per test process, so that ~/.netrc, ~/.ssh and ~/.config never reach a test).
 */
const DROPPED = new Set(['SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'NETRC', 'NODE_OPTIONS', 'HOME']);

/**
 * The test process's environment without proxy variables, burrow's own variables, desktop proxy settings, remembered
 * state or an ssh agent, so that the developer's settings never leak into a test; `extra` adds variables (undefined
 * removes one).
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/_proxy$/i.test(key) || /^(BURROW|TELEPORT)_/i.test(key) || DROPPED.has(key)) continue;
    env[key] = value;
  }
  // The developer's own ~/.config/burrow/config.yaml must not steer a test either: point at a directory that is not there.
  env.XDG_CONFIG_HOME = join(tmpdir(), 'burrow-tests-no-config');
  // Nor the desktop's proxy settings (GNOME, KDE, macOS, Windows): tests of those turn them back on.
  delete env.XDG_CURRENT_DESKTOP;
  env.BURROW_SYSTEM_PROXY = 'off';
  // Nor what burrow remembered between runs (PAC answers, tsh probes, dead proxies, schemes a proxy asked for) in
  // ~/.cache, in an earlier test run, or in an earlier test of this process (a peer may get a port an earlier test's
  // peer had): a fresh state directory per environment. A test whose runs share memory uses one env for them, or
  // sets XDG_CACHE_HOME itself.
  env.XDG_CACHE_HOME = mkdtempSync(join(testCacheHome(), 'state-'));
  env.HOME = testHome();
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/**
 * A directory for this test process: inside the run's directory when vitest made one (test/global-setup.ts removes it
 * at the end), else removed when the process exits (the benchmarks).
 */
function processTempDir(prefix: string): string {
  const dir = mkdtempSync(join(process.env.BURROW_TEST_TMP ?? tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let home: string | undefined;
function testHome(): string {
  home ??= processTempDir('burrow-tests-home-');
  return home;
}

/** The parent of this process's state directories. */
let cacheHome: string | undefined;
function testCacheHome(): string {
  cacheHome ??= processTempDir('burrow-tests-cache-');
  return cacheHome;
}
