import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadPac } from '../../src/route/pac.ts';
import { loadPacText } from '../../src/route/pac-text.ts';
import { displayProxy } from '../../src/route/proxy-url.ts';
import { sourceText } from '../../src/route/plan.ts';
import { resolveRoute, type RouteOptions } from '../../src/route/policy.ts';
import { makeTarget } from '../../src/route/target.ts';

// PAC scripts evaluated in QuickJS (pac-resolver + quickjs-wasi). No name here needs DNS: IP literals and names the
// script tests by string only.
const dir = mkdtempSync(join(tmpdir(), 'burrow-pac-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
function pacFile(body: string): string {
  const file = join(dir, `proxy-${++count}.pac`);
  writeFileSync(file, body);
  return file;
}

const CORP = pacFile(`
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example")) return "DIRECT";
  if (shExpMatch(url, "https://*:22/")) return "PROXY ssh-a.example:3128; SOCKS5 ssh-b.example:1080";
  if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "SOCKS 10.1.1.1:1080";
  return "PROXY web.example:3128; DIRECT";
}`);

const route = (host: string, port: number, options: Partial<RouteOptions> = {}) => resolveRoute(makeTarget(host, port), { env: {}, pac: CORP, ...options });
const hopsOf = (plan: Awaited<ReturnType<typeof route>>) => plan.alternatives.map((a) => a.hops.map(displayProxy));

describe('PAC answers become ordered alternatives', () => {
  it.each([
    ['jump.example.org', 22, [['http://ssh-a.example:3128'], ['socks5h://ssh-b.example:1080']]],
    ['www.example.org', 443, [['http://web.example:3128'], []]],
    ['10.2.3.4', 22, [['http://ssh-a.example:3128'], ['socks5h://ssh-b.example:1080']]],
    ['10.2.3.4', 8080, [['socks5h://10.1.1.1:1080']]],
    ['intranet', 80, [[]]],
    ['git.corp.example', 22, [[]]],
  ] as const)('%s:%d', async (host, port, alternatives) => {
    const plan = await route(host, port);
    expect(hopsOf(plan)).toEqual(alternatives);
    expect(plan.alternatives.every((a) => sourceText(a.source) === 'PAC')).toBe(true);
  });

  it('explains the answer: the file, the setting that named it, the URL asked, the whole answer', async () => {
    const plan = await route('jump.example.org', 22);
    expect(plan.alternatives[0]!.pac).toEqual({ location: CORP, from: '--pac', url: 'https://jump.example.org:22/', answer: 'PROXY ssh-a.example:3128; SOCKS5 ssh-b.example:1080' });
    expect(plan.alternatives[0]!.reason).toContain(`the PAC file ${CORP} (from --pac) answered "PROXY ssh-a.example:3128; SOCKS5 ssh-b.example:1080" for https://jump.example.org:22/`);
    expect(plan.alternatives[1]!.reason).toContain('alternative 2 of 2');
  });

  it('--pac beats BURROW_PAC, which beats pac: in the config; BURROW_PROXY beats them all', async () => {
    const other = pacFile('function FindProxyForURL(u, h) { return "PROXY other.example:1"; }');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `pac: ${other}\n`);
    expect(hopsOf(await route('a.example', 443, { pac: other, env: { BURROW_PAC: CORP } }))).toEqual([['http://other.example:1']]);
    const fromEnv = await route('a.example', 443, { pac: undefined, env: { BURROW_PAC: CORP }, configFile: config });
    expect(fromEnv.alternatives[0]!.pac?.from).toBe('BURROW_PAC');
    const fromConfig = await route('a.example', 443, { pac: undefined, configFile: config });
    expect(hopsOf(fromConfig)).toEqual([['http://other.example:1']]);
    expect(fromConfig.alternatives[0]!.pac?.from).toBe('config');
    const burrowProxy = await route('a.example', 443, { env: { BURROW_PROXY: 'http://bp:1' } });
    expect(hopsOf(burrowProxy)).toEqual([['http://bp:1']]);
  });

  it('the PAC beats HTTPS_PROXY; --no-proxy still exempts; loopback targets never consult it', async () => {
    expect(hopsOf(await route('a.example', 443, { env: { HTTPS_PROXY: 'http://hp:1' } }))).toEqual([['http://web.example:3128'], []]);
    expect((await route('a.example', 443, { noProxy: 'a.example' })).alternatives[0]!.source).toEqual({ kind: 'no-proxy', list: { from: 'flag', name: '--no-proxy' } });
    const loopback = await route('127.0.0.1', 22);
    expect(loopback.alternatives.map((a) => [sourceText(a.source), a.hops])).toEqual([['loopback', []]]);
  });

  it('alert() becomes a warning and never reaches stdout (the tunnel in connect)', async () => {
    const write = vi.spyOn(process.stdout, 'write');
    try {
      const file = pacFile('function FindProxyForURL(u, h) { alert("checking " + h); return "DIRECT"; }');
      const plan = await route('a.example', 22, { pac: file });
      expect(plan.warnings).toEqual([`PAC ${file} alert(): checking a.example`]);
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
  });

  it('an unusable answer is DIRECT with a warning', async () => {
    const file = pacFile('function FindProxyForURL(u, h) { return "FTP x:21"; }');
    const plan = await route('a.example', 22, { pac: file });
    expect(hopsOf(plan)).toEqual([[]]);
    expect(plan.warnings[0]).toMatch(/unknown keyword FTP/);
  });

  it('myIpAddress() answers without network traffic', async () => {
    const file = pacFile('function FindProxyForURL(u, h) { return "PROXY " + myIpAddress() + ":3128"; }');
    const plan = await route('a.example', 22, { pac: file });
    expect(plan.alternatives[0]!.hops[0]!.host).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});

/** The engine for a script's text (as sources.ts builds it from what pac-text.ts read). */
const engine = (body: string, timeoutMs: number) => loadPac('test.pac', body, timeoutMs);

describe('loadPac', () => {
  it('evaluates once per target and caches the answer', async () => {
    const script = await engine('var n = 0; function FindProxyForURL(u, h) { n++; return "PROXY p" + n + ":1"; }', 5000);
    expect((await script.evaluate(makeTarget('a.example', 22))).answer).toBe('PROXY p1:1');
    expect((await script.evaluate(makeTarget('a.example', 22))).answer).toBe('PROXY p1:1');
    expect((await script.evaluate(makeTarget('b.example', 22))).answer).toBe('PROXY p2:1');
  });

  it('stops a script that loops forever (usage error, exit 2)', async () => {
    const script = await engine('function FindProxyForURL(u, h) { while (true) {} }', 300);
    await expect(script.evaluate(makeTarget('a.example', 22))).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/failed for https:\/\/a\.example:22\/.*interrupted/) });
  });

  it('a script that throws is a usage error naming the URL', async () => {
    const script = await engine('function FindProxyForURL(u, h) { return undefinedThing(); }', 1000);
    await expect(script.evaluate(makeTarget('a.example', 22))).rejects.toMatchObject({ kind: 'usage', message: expect.stringContaining('undefinedThing') });
  });

  it.each([
    ['a syntax error', 'function FindProxyForURL(u, h) { return "DIRECT"; ', /does not compile/],
    ['no FindProxyForURL', 'var x = 1;', /does not compile/],
  ])('rejects %s', async (_why, body, message) => {
    await expect(engine(body, 1000)).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(message) });
  });

  it('rejects a missing file and one larger than 1 MiB', async () => {
    await expect(loadPacText(join(dir, 'missing.pac'), 1000, {})).rejects.toMatchObject({ kind: 'usage', message: expect.stringContaining('ENOENT') });
    const big = pacFile(`// ${'x'.repeat(1024 * 1024)}\nfunction FindProxyForURL(u, h) { return "DIRECT"; }`);
    await expect(loadPacText(big, 1000, {})).rejects.toMatchObject({ kind: 'usage', message: expect.stringContaining('more than the 1048576') });
  });
});
