import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceText, type RoutePlan } from '../../src/route/plan.ts';
import { loadRoutePolicy, resolveRoute, type RouteOptions } from '../../src/route/policy.ts';
import { displayProxy } from '../../src/route/proxy-url.ts';
import type { SystemReading } from '../../src/route/system/read.ts';
import type { SystemProxySettings } from '../../src/route/system/types.ts';
import { makeTarget } from '../../src/route/target.ts';

// The desktop's proxy settings as a route source (route/policy.ts systemSource), with the reading injected: its
// place in the precedence (only when nothing else decides, never read when a variable does), the exceptions, the
// loopback rule and the PAC path. GNOME and KDE read for real: test/integration/system-proxy.test.ts; through
// squid: test/interop/system-proxy.test.ts.

const dir = mkdtempSync(join(tmpdir(), 'burrow-system-route-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const settings = (extra: Partial<SystemProxySettings>): SystemProxySettings => ({
  kind: 'macos',
  origin: 'macOS proxy settings (scutil --proxy)',
  mode: 'manual',
  proxy: 'http://proxy.corp.example:3128',
  bypass: ['*.lab.example', '10.0.0.0/8'],
  bypassName: 'macOS proxy settings (scutil --proxy) ExceptionsList',
  bypassSimpleNames: true,
  warnings: [],
  ...extra,
});

function reader(value: SystemProxySettings | undefined): { read: () => Promise<SystemReading>; calls: () => number } {
  let calls = 0;
  return {
    read: async () => {
      calls++;
      return { ...(value ? { settings: value } : {}), ms: 1.5, from: 'scutil --proxy' };
    },
    calls: () => calls,
  };
}

const route = (host: string, options: Partial<RouteOptions>): Promise<RoutePlan> => resolveRoute(makeTarget(host, 22), { env: {}, ...options });
const first = (plan: RoutePlan) => ({ hops: plan.alternatives[0]!.hops.map(displayProxy), source: sourceText(plan.alternatives[0]!.source), reason: plan.alternatives[0]!.reason });

describe('the desktop settings as a route source', () => {
  it('manual: routes through the proxy, names the settings, and how long reading took', async () => {
    const r = reader(settings({}));
    const plan = first(await route('git.corp.example', { readSystemProxy: r.read }));
    expect(plan.hops).toEqual(['http://proxy.corp.example:3128']);
    expect(plan.source).toBe('macOS proxy settings (scutil --proxy)');
    expect(plan.reason).toMatch(/read from `scutil --proxy` in 1\.5 ms/);
  });

  it('is read once per run, whatever the number of targets', async () => {
    const r = reader(settings({}));
    const options: RouteOptions = { env: {}, readSystemProxy: r.read };
    for (const host of ['a.corp.example', 'b.corp.example', 'c.lab.example']) await resolveRoute(makeTarget(host, 22), options);
    expect(r.calls()).toBe(1);
  });

  it.each([
    ['web.lab.example', [], 'macOS proxy settings (scutil --proxy) ExceptionsList'],
    ['10.1.2.3', [], 'macOS proxy settings (scutil --proxy) ExceptionsList'],
    ['intranet', [], 'macOS proxy settings (scutil --proxy) ExceptionsList'],
    ['localhost', [], 'loopback'],
    ['git.corp.example', ['http://proxy.corp.example:3128'], 'macOS proxy settings (scutil --proxy)'],
  ])('exceptions and the loopback rule: %s', async (host, hops, source) => {
    const plan = first(await route(host, { readSystemProxy: reader(settings({})).read }));
    expect(plan.hops).toEqual(hops);
    expect(plan.source).toBe(source);
  });

  it('variables, flags, BURROW_PROXY and --no-proxy keep winning; a variable means nothing is read', async () => {
    const r = reader(settings({}));
    expect(first(await route('git.corp.example', { env: { HTTPS_PROXY: 'http://env.corp:8080' }, readSystemProxy: r.read })).source).toBe('HTTPS_PROXY');
    expect(first(await route('git.corp.example', { env: { https_proxy: 'http://env.corp:8080' }, readSystemProxy: r.read })).source).toBe('https_proxy');
    expect(first(await route('git.corp.example', { env: { BURROW_PROXY: 'http://b.corp:8080' }, readSystemProxy: r.read })).source).toBe('BURROW_PROXY');
    expect(first(await route('git.corp.example', { proxies: ['http://flag.corp:1'], readSystemProxy: r.read })).source).toBe('--proxy');
    expect(first(await route('git.corp.example', { direct: true, readSystemProxy: r.read })).source).toBe('--direct');
    expect(r.calls()).toBe(0);
    expect(first(await route('git.corp.example', { noProxy: 'corp.example', readSystemProxy: r.read })).source).toBe('--no-proxy');
  });

  it('mode none or nothing readable: direct, from the default', async () => {
    expect(first(await route('git.corp.example', { readSystemProxy: reader(settings({ mode: 'none' })).read })).source).toBe('default');
    expect(first(await route('git.corp.example', { readSystemProxy: reader(undefined).read })).source).toBe('default');
  });

  it('auto: the desktop PAC (a file:// URL too) decides, with every alternative; its warnings reach the plan', async () => {
    const pac = join(dir, 'desktop.pac');
    writeFileSync(pac, 'function FindProxyForURL(url, host) { return "PROXY a.corp:3128; PROXY b.corp:3128"; }\n');
    const plan = await route('git.corp.example', { readSystemProxy: reader(settings({ mode: 'auto', pacUrl: pathToFileURL(pac).href, warnings: ['an exception was ignored'] })).read });
    expect(plan.alternatives.map((a) => a.hops.map(displayProxy))).toEqual([['http://a.corp:3128'], ['http://b.corp:3128']]);
    expect(plan.alternatives[0]!.reason).toMatch(/from macOS proxy settings \(scutil --proxy\)\).*say auto/);
    expect(plan.alternatives[0]!.pac?.from).toBe('macOS proxy settings (scutil --proxy)');
    expect(plan.warnings).toContain('an exception was ignored');
    // The desktop's exceptions apply before the PAC runs.
    expect(first(await route('x.lab.example', { readSystemProxy: reader(settings({ mode: 'auto', pacUrl: pac })).read })).hops).toEqual([]);
  });

  it("names a manual proxy among the policy's named proxies (what doctor checks), by its origin; auto, none, a variable or --direct name none", async () => {
    const named = async (options: Partial<RouteOptions>) => (await (await loadRoutePolicy({ env: {}, ...options })).namedProxies()).map((p) => [sourceText(p.source), p.hops.map(displayProxy)]);
    expect(await named({ readSystemProxy: reader(settings({})).read })).toEqual([['macOS proxy settings (scutil --proxy)', ['http://proxy.corp.example:3128']]]);
    expect(await named({ readSystemProxy: reader(settings({ mode: 'auto', pacUrl: 'http://pac.corp.example/p.pac' })).read })).toEqual([]);
    expect(await named({ readSystemProxy: reader(settings({ mode: 'none' })).read })).toEqual([]);
    expect(await named({ readSystemProxy: reader(undefined).read })).toEqual([]);
    const unread = reader(settings({}));
    expect(await named({ env: { HTTPS_PROXY: 'http://env.corp:8080' }, readSystemProxy: unread.read })).toEqual([['HTTPS_PROXY', ['http://env.corp:8080']]]);
    expect(await named({ direct: true, readSystemProxy: unread.read })).toEqual([]);
    expect(unread.calls()).toBe(0);
  });
});
