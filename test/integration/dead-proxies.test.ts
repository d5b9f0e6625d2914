// Dead proxies remembered between runs (src/dial/dead-proxies.ts), end to end through bin/burrow with Node peers:
// the black hole is a proxy that accepts TCP and never answers, so only the per-alternative limit gets past it and
// its connection count says whether a run tried it at all. Runs of one test share one XDG_CACHE_HOME.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closedPort, startBlackHole } from '../helpers/doctor-peers.ts';
import { startConnectProxy, startEchoServer } from '../helpers/node-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();
const NAME = 'sshd.burrow.test';
const HOSTS = { [NAME]: '127.0.0.1' };
const dir = mkdtempSync(join(tmpdir(), 'burrow-dead-proxies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const pacReturning = (answer: string): string => {
  const file = join(dir, `${++files}.pac`);
  writeFileSync(file, `function FindProxyForURL(url, host) { return ${JSON.stringify(answer)}; }\n`);
  return file;
};
const cacheEnv = () => cleanEnv({ XDG_CACHE_HOME: mkdtempSync(join(dir, 'cache-')) });

describe('a proxy that failed is tried last by later runs', () => {
  it('the second run connects without waiting on the dead proxy; route says so; --fresh tries it first again', async () => {
    const dead = await track(startBlackHole());
    const good = await track(startConnectProxy({ hosts: HOSTS }));
    const target = await track(startEchoServer());
    const pac = pacReturning(`PROXY 127.0.0.1:${dead.port}; PROXY 127.0.0.1:${good.port}`);
    const env = cacheEnv();
    const connect = (...extra: string[]) => runBurrow(['connect', '-v', '--pac', pac, '--alternative-timeout', '1', ...extra, NAME, String(target.port)], { env, input: 'hello', killAfterMs: 15_000 });

    const first = await connect();
    expect(first.stdout.toString()).toBe('hello');
    expect(dead.connections).toBe(1);
    expect(first.stderr).toMatch(/route alternative failed/);

    const second = await connect();
    expect(second.stdout.toString()).toBe('hello');
    expect(second.code).toBe(0);
    // Not tried at all: the dead proxy saw no second connection, and the log says why.
    expect(dead.connections).toBe(1);
    expect(second.stderr).toMatch(/remembered as failed: trying it last/);
    expect(second.stderr).not.toMatch(/route alternative failed/);
    expect(good.requests).toHaveLength(2);

    const route = await runBurrow(['route', '--pac', pac, NAME, '22'], { env, input: '' });
    expect(route.code).toBe(0);
    const text = route.stdout.toString();
    expect(text).toMatch(new RegExp(`route 1 +http://127\\.0\\.0\\.1:${good.port}`));
    expect(text).toMatch(new RegExp(`route 2 +http://127\\.0\\.0\\.1:${dead.port}`));
    expect(text).toMatch(/memory +remembered as failed at \d\d:\d\d \(timeout\)/);
    const json = JSON.parse((await runBurrow(['route', '--json', '--pac', pac, NAME, '22'], { env, input: '' })).stdout.toString()) as { plan: Array<{ hops: string[]; remembered_failed?: { at: string; said: string } }> };
    expect(json.plan.map((p) => p.hops[0])).toEqual([good.url.replace('tcp:', 'http:'), dead.url.replace('tcp:', 'http:')]);
    expect(json.plan[1]!.remembered_failed?.said).toBe('timeout');
    const freshRoute = JSON.parse((await runBurrow(['route', '--json', '--fresh', '--pac', pac, NAME, '22'], { env, input: '' })).stdout.toString()) as { plan: Array<{ hops: string[] }> };
    expect(freshRoute.plan[0]!.hops[0]).toBe(`http://127.0.0.1:${dead.port}`);

    const fresh = await connect('--fresh');
    expect(fresh.stdout.toString()).toBe('hello');
    expect(dead.connections).toBe(2);
  });

  it('a remembered proxy is still tried when nothing else works', async () => {
    const dead = await track(startBlackHole());
    const good = await track(startConnectProxy({ hosts: HOSTS }));
    const refused = await closedPort();
    const target = await track(startEchoServer());
    const env = cacheEnv();
    await runBurrow(['connect', '--pac', pacReturning(`PROXY 127.0.0.1:${dead.port}; PROXY 127.0.0.1:${good.port}`), '--alternative-timeout', '1', NAME, String(target.port)], { env, input: 'x', killAfterMs: 15_000 });
    expect(dead.connections).toBe(1);
    const result = await runBurrow(['connect', '-v', '--pac', pacReturning(`PROXY 127.0.0.1:${dead.port}; PROXY 127.0.0.1:${refused}`), '--connect-timeout', '2', NAME, String(target.port)], { env, input: 'x', killAfterMs: 15_000 });
    expect(result.code).toBe(5);
    // The refused one first, then the remembered one with the time that was left.
    expect(dead.connections).toBe(2);
    expect(result.stderr).toMatch(/All 2 route alternatives failed/);
  });

  it('a lone proxy is never remembered (nothing to reorder)', async () => {
    const refused = await closedPort();
    const env = cacheEnv();
    const result = await runBurrow(['connect', '-x', `http://127.0.0.1:${refused}`, NAME, '22'], { env, input: '' });
    expect(result.code).toBe(5);
    const route = await runBurrow(['route', '--pac', pacReturning(`PROXY 127.0.0.1:${refused}; DIRECT`), NAME, '22'], { env, input: '' });
    expect(route.stdout.toString()).not.toMatch(/remembered/);
  });
});
