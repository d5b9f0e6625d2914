import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRoutePolicy } from '../../src/route/policy.ts';
import type { PacMemory } from '../../src/route/sources.ts';
import { formatHops } from '../../src/route/proxy-url.ts';
import { makeTarget } from '../../src/route/target.ts';

// The route policy's own API (route --json agreement across commands is test/integration/route-agreement.test.ts).
describe('compileRoutePolicy', () => {
  it('lists its sources in precedence order, only those configured', () => {
    const kinds = (flags: Parameters<typeof compileRoutePolicy>[0], env: Record<string, string>) => compileRoutePolicy(flags, env, undefined).sources.map((s) => s.kind);
    // The desktop's proxy settings: a source only without a proxy variable (read lazily, when the walk gets there).
    expect(kinds({}, {})).toEqual(['system', 'none']);
    expect(kinds({ pac: '/x.pac' }, {})).toEqual(['pac', 'system', 'none']);
    expect(kinds({}, { HTTPS_PROXY: 'http://p:1' })).toEqual(['environment', 'none']);
    expect(kinds({}, { BURROW_PROXY: 'http://b:1', HTTPS_PROXY: 'http://p:1' })).toEqual(['burrow-proxy', 'none']);
    expect(kinds({ pac: '/x.pac' }, { HTTPS_PROXY: 'http://p:1' })).toEqual(['pac', 'environment', 'none']);
    expect(kinds({ proxies: ['http://x:1'] }, { HTTPS_PROXY: 'http://p:1' })).toEqual(['flag-proxy']);
    expect(kinds({ direct: true }, {})).toEqual(['flag-direct']);
  });

  it('parses the variables once, but reports a bad one only when the walk reaches it', async () => {
    const policy = compileRoutePolicy({ proxies: ['http://x:1'] }, { HTTPS_PROXY: 'http://[bad' }, undefined);
    expect(formatHops((await policy.resolve(makeTarget('a.example', 22))).alternatives[0]!.hops)).toBe('http://x:1');
    const broken = compileRoutePolicy({}, { HTTPS_PROXY: 'http://[bad' }, undefined);
    await expect(broken.resolve(makeTarget('a.example', 22))).rejects.toMatchObject({ kind: 'usage' });
  });

  it('says which proxies a Go program gets from variables, and which proxies were named', async () => {
    const policy = compileRoutePolicy({ noProxy: 'corp' }, { HTTPS_PROXY: 'http://p:1', ALL_PROXY: 'socks5h://s:2' }, undefined);
    expect(policy.proxyVariables()).toMatchObject({ source: { kind: 'environment', variable: 'HTTPS_PROXY' }, noProxy: 'corp' });
    expect((await policy.namedProxies()).map((p) => [p.source, formatHops(p.hops)])).toEqual([
      [{ kind: 'environment', variable: 'HTTPS_PROXY' }, 'http://p:1'],
      [{ kind: 'environment', variable: 'ALL_PROXY' }, 'socks5h://s:2'],
    ]);
  });

  it('consults a PAC memory with the text of the script before the engine (which then is never loaded); --fresh skips it', async () => {
    const asked: string[] = [];
    const memory: PacMemory = {
      recall: (content, url) => {
        asked.push(`${content} ${url}`);
        return { answer: 'PROXY remembered.example:3128', at: new Date(2026, 0, 2, 9, 5).getTime() };
      },
      remember: () => {
        throw new Error('nothing to remember: the answer was recalled');
      },
    };
    // A script the engine would answer differently: a recalled answer shows it was not run.
    const text = 'function FindProxyForURL(u, h) { return "PROXY computed.example:1"; }';
    const pac = join(mkdtempSync(join(tmpdir(), 'burrow-policy-')), 'proxy.pac');
    writeFileSync(pac, text);
    const policy = compileRoutePolicy({ pac, pacMemory: memory }, {}, undefined);
    const plan = await policy.resolve(makeTarget('a.example', 443));
    expect(asked).toEqual([`${text} https://a.example/`]);
    expect(plan.alternatives.map((a) => [a.source.kind, formatHops(a.hops)])).toEqual([['pac', 'http://remembered.example:3128']]);
    expect(plan.alternatives[0]!.reason).toMatch(/; PAC answer remembered from 09:05$/);
    expect(plan.alternatives[0]!.pac!.remembered_at).toBe(new Date(2026, 0, 2, 9, 5).toISOString());

    const remembered: string[] = [];
    const fresh = compileRoutePolicy({ pac, pacMemory: { ...memory, remember: (_content, url, answer) => remembered.push(`${url} ${answer}`) }, fresh: true }, {}, undefined);
    const recomputed = await fresh.resolve(makeTarget('a.example', 443));
    expect(recomputed.alternatives.map((a) => formatHops(a.hops))).toEqual(['http://computed.example:1']);
    expect(asked).toHaveLength(1);
    expect(remembered).toEqual(['https://a.example/ PROXY computed.example:1']);
  });
});
