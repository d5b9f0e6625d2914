import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alternativeKey, forgetFailure, orderAlternatives, rememberFailure, showsDeadAlternative } from '../../src/dial/dead-proxies.ts';
import { BurrowError } from '../../src/errors.ts';
import type { RouteAlternative, RoutePlan } from '../../src/route/plan.ts';
import { parseProxyUrl } from '../../src/route/proxy-url.ts';
import { forgetNetworkFingerprint } from '../../src/state/store.ts';

const dirs: string[] = [];
const env = () => {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-dead-'));
  dirs.push(dir);
  return { XDG_CACHE_HOME: dir };
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  forgetNetworkFingerprint();
});

const alt = (url?: string): RouteAlternative => ({ hops: url ? [parseProxyUrl(url)] : [], source: { kind: 'pac' }, reason: '' });
const a = alt('http://user:secret@a.corp:3128');
const b = alt('socks5h://b.corp:1080');
const direct = alt();
const plan: RoutePlan = { target: { host: 'git.corp', port: 22 }, alternatives: [a, b, direct], warnings: [] };

describe('which failures mark an alternative dead', () => {
  it.each([
    ['a timeout', a, new BurrowError('unreachable', 'x', { proxy: 'http://a.corp:3128', target: 'git.corp:22', said: 'timeout' }), true],
    ['TCP refused by the proxy', a, new BurrowError('unreachable', 'x', { proxy: 'http://a.corp:3128', said: 'ECONNREFUSED' }), true],
    ['the proxy cannot reach the target (502)', a, new BurrowError('unreachable', 'x', { proxy: 'http://a.corp:3128', target: 'git.corp:22', said: 'HTTP/1.1 502', proxyAnswer: { statusCode: 502, statusLine: 'HTTP/1.1 502', authSchemes: [] } }), false],
    ['a policy refusal (403)', a, new BurrowError('refused', 'x', { proxy: 'http://a.corp:3128', said: 'HTTP/1.1 403' }), false],
    ['rejected credentials', a, new BurrowError('auth', 'x', { proxy: 'http://a.corp:3128', said: 'HTTP/1.1 407' }), false],
    ['direct, target unreachable', direct, new BurrowError('unreachable', 'x', { target: 'git.corp:22', said: 'EHOSTUNREACH' }), true],
  ])('%s', (_name, alternative, error, dead) => {
    expect(showsDeadAlternative(alternative, error)).toBe(dead);
  });
});

describe('ordering', () => {
  it('remembered alternatives go last, in plan order; keys carry no credentials; --fresh and success forget', () => {
    const e = env();
    expect(orderAlternatives(plan, e).map((o) => o.alternative)).toEqual([a, b, direct]);
    rememberFailure(plan, a, new BurrowError('unreachable', 'x', { said: 'timeout' }), e);
    rememberFailure(plan, direct, new BurrowError('unreachable', 'x', { said: 'EHOSTUNREACH' }), e);
    const ordered = orderAlternatives(plan, e);
    expect(ordered.map((o) => o.alternative)).toEqual([b, a, direct]);
    expect(ordered[1]).toMatchObject({ said: 'timeout' });
    expect(typeof ordered[1]!.failedAt).toBe('number');
    expect(alternativeKey(plan, a)).toBe('http://a.corp:3128');
    expect(alternativeKey(plan, direct)).toBe('direct git.corp:22');
    expect(orderAlternatives(plan, e, true).map((o) => o.alternative)).toEqual([a, b, direct]);
    forgetFailure(plan, a, e);
    expect(orderAlternatives(plan, e).map((o) => o.alternative)).toEqual([a, b, direct]);
  });

  it('a direct route is remembered per target', () => {
    const e = env();
    rememberFailure(plan, direct, new BurrowError('unreachable', 'x', { said: 'timeout' }), e);
    const other: RoutePlan = { ...plan, target: { host: 'other.corp', port: 22 } };
    expect(orderAlternatives(other, e).every((o) => o.failedAt === undefined)).toBe(true);
  });
});
