// `npm pack` + `npm install -g` into a temporary prefix, as a user would install burrow, then OpenSSH with
// `ProxyCommand PREFIX/bin/burrow connect %h %p` through the real squid (Basic auth; only squid resolves
// sshd.burrow.test, so reaching that name proves the tunnel went through it). The install runs with
// --ignore-scripts: that is the harshest case (no native add-on is built: ssh2 and the auth code fall back or say
// what is missing), it needs no compiler or Node headers in CI, and --prefer-offline takes the packages from the
// cache `npm ci` filled.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SQUID_PASSWORD,
  SQUID_USER,
  cleanEnv,
  makeTempDir,
  run,
  runSsh,
  startSquid,
  startSshd,
  whyCannotRun,
  withCredentials,
  type RunResult,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TARGET_NAME = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'sshd', 'ssh', 'ssh-keygen', 'npm', 'tar');
const title = (name: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : name);
const explain = (r: RunResult): string => `exit ${r.code}, signal ${r.signal}, timed out ${r.timedOut}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`;

describe.skipIf(skipReason)(title('npm pack + npm install -g into a temporary prefix, then ssh through squid'), () => {
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let dir: string;
  let prefix: string;
  let tarball: string;
  let files: string[];
  // npm and the installed burrow run with the test's node first on PATH, and nothing of the user's npm setup that
  // could redirect the prefix.
  const env = (extra: Record<string, string> = {}) =>
    cleanEnv({ PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, npm_config_prefix: undefined, NPM_CONFIG_PREFIX: undefined, ...extra });

  beforeAll(async () => {
    dir = makeTempDir('npm-install');
    prefix = join(dir, 'prefix');
    [sshd, squid] = await Promise.all([startSshd(), startSquid({ auth: true, hosts: { [TARGET_NAME]: '127.0.0.1' } })]);
    const pack = await run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: ROOT, env: env(), timeoutMs: 120_000 });
    if (pack.code !== 0) throw new Error(`npm pack failed:\n${explain(pack)}`);
    // stdout is the JSON report after prepack's build output.
    const report = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[\n'))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, report[0]!.filename);
    files = report[0]!.files.map((f) => f.path);
    const install = await run('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: dir,
      env: env(),
      timeoutMs: 240_000,
    });
    if (install.code !== 0) throw new Error(`npm install -g failed:\n${explain(install)}`);
  }, 300_000);
  afterAll(async () => {
    await Promise.all([sshd?.stop(), squid?.stop()]);
  });

  it('the package ships only what runs: bin/, the CLI bundles and chunks, examples, README, CHANGELOG', () => {
    expect(files).toContain('bin/burrow');
    expect(files).toContain('dist/connect.cjs');
    expect(files).toContain('dist/burrow.mjs');
    // The PAC engine: QuickJS with its WebAssembly of the same version, and the compiler.
    expect(files).toEqual(expect.arrayContaining(['dist/pac-engine.cjs', 'dist/quickjs.wasm']));
    const unwanted = files.filter((f) => /\.map$|v8cache|^dist\/(exe|bench|demo)|^(src|test|bench|scripts|peers)\//.test(f));
    expect(unwanted).toEqual([]);
    // Every chunk the entry can import is in the package (no stale or missing chunk).
    const chunks = files.filter((f) => f.startsWith('dist/chunks/'));
    expect(chunks.length).toBeGreaterThan(0);
    expect(readdirSync(join(prefix, 'lib', 'node_modules', 'burrow', 'dist', 'chunks')).sort()).toEqual(chunks.map((c) => c.slice('dist/chunks/'.length)).sort());
  });

  it('burrow --version from the prefix says npm global', async () => {
    const result = await run(join(prefix, 'bin', 'burrow'), ['--version'], { env: env() });
    expect(result.stdout, explain(result)).toMatch(/^burrow \d+\.\d+\.\d+\ninstalled: npm global at /);
    expect(result.stdout).toContain(join(prefix, 'lib', 'node_modules', 'burrow'));
    expect(result.code).toBe(0);
  });

  it('ssh with ProxyCommand PREFIX/bin/burrow connect %h %p reaches sshd through squid', async () => {
    const result = await runSsh(sshd, 'echo hello from the global install', {
      host: TARGET_NAME,
      proxyCommand: `${join(prefix, 'bin', 'burrow')} connect %h %p`,
      env: env({ HTTPS_PROXY: withCredentials(squid.url, SQUID_USER, SQUID_PASSWORD) }),
      timeoutMs: 60_000,
    });
    expect(result.stdout, `${explain(result)}\n${squid.logTail(20)}`).toBe('hello from the global install\n');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    await expect.poll(() => squid.accessLog(), { timeout: 10_000 }).toContain(`CONNECT ${TARGET_NAME}:${sshd.port} ${SQUID_USER} `);
  });

  it('route --pac from the prefix evaluates a PAC with the installed engine (a DNS function included)', async () => {
    const pac = join(dir, 'proxy.pac');
    writeFileSync(pac, 'function FindProxyForURL(url, host) { return isInNet(dnsResolve("localhost"), "127.0.0.0", "255.0.0.0") ? "PROXY in.example:1" : "DIRECT"; }\n');
    const result = await run(join(prefix, 'bin', 'burrow'), ['route', '--pac', pac, TARGET_NAME, '22', '--json'], { env: env() });
    expect(result.code, explain(result)).toBe(0);
    expect(JSON.parse(result.stdout).plan[0].pac.answer).toBe('PROXY in.example:1');
  });

  it('ssh-config from the prefix: its ProxyCommand names the installed bin/burrow', async () => {
    const result = await run(join(prefix, 'bin', 'burrow'), ['ssh-config', TARGET_NAME, '--no-multiplex', '--no-fdpass'], { env: env() });
    expect(result.stdout, explain(result)).toContain(`ProxyCommand ${join(prefix, 'bin', 'burrow')} connect %h %p`);
    expect(result.code).toBe(0);
  });
});
