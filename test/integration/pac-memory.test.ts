// PAC answers remembered across runs (src/route/pac-memory.ts): the second `burrow connect` to the same host takes
// its route from the per-user store without loading the PAC engine; a changed PAC file is obeyed at once; an answer
// remembered on another network is forgotten; a PAC using time functions is never remembered; --fresh ignores the
// memory. Whether the engine loaded is observed from outside (test/helpers/pac-engine-spy.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startConnectProxy, startEchoServer } from '../helpers/node-peers.ts';
import { pacEngineSpy } from '../helpers/pac-engine-spy.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();
const NAME = 'sshd.burrow.test';
const dir = mkdtempSync(join(tmpdir(), 'burrow-pac-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const watchEngine = pacEngineSpy(dir);

async function connectThroughPac(pac: string, cache: string, port: number, extra: string[] = []) {
  const watch = watchEngine();
  const env = cleanEnv({ XDG_CACHE_HOME: cache, ...watch.env });
  const result = await runBurrow(['connect', '-vv', ...extra, '--pac', pac, NAME, String(port)], { env, input: 'ping' });
  return { ...result, engineLoaded: watch.loaded() };
}

describe('PAC answers remembered across runs', () => {
  it('the second run takes the route from the memory (engine not loaded); a changed PAC file is obeyed at once; --fresh recomputes', async () => {
    const first = await track(startConnectProxy({ hosts: { [NAME]: '127.0.0.1' } }));
    const second = await track(startConnectProxy({ hosts: { [NAME]: '127.0.0.1' } }));
    const target = await track(startEchoServer());
    const cache = mkdtempSync(join(dir, 'cache-'));
    const pac = join(dir, 'proxy.pac');
    writeFileSync(pac, `function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:${first.port}"; }\n`);

    const cold = await connectThroughPac(pac, cache, target.port);
    expect(cold.stdout.toString()).toBe('ping');
    // The engine comes bundled as a CommonJS file (scripts/build.mjs), not through Node's ESM loader.
    expect(cold.engineLoaded).toEqual(['pac-engine.cjs']);

    const warm = await connectThroughPac(pac, cache, target.port);
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.stdout.toString()).toBe('ping');
    expect(warm.engineLoaded).toEqual([]);
    expect(first.requests.length).toBe(2);

    // This one looks a name up (pac-dns.ts: answered between runs of FindProxyForURL, no script rewrite).
    writeFileSync(pac, `function FindProxyForURL(url, host) { return isResolvable("localhost") ? "PROXY 127.0.0.1:${second.port}" : "DIRECT"; }\n`);
    const changed = await connectThroughPac(pac, cache, target.port);
    expect(changed.stdout.toString()).toBe('ping');
    expect(changed.engineLoaded).toEqual(['pac-engine.cjs']);
    expect(second.requests.length).toBe(1);
    expect(first.requests.length).toBe(2);

    const fresh = await connectThroughPac(pac, cache, target.port, ['--fresh']);
    expect(fresh.stdout.toString()).toBe('ping');
    // --fresh ignores remembered answers, not the compiled script (which depends on the content alone).
    expect(fresh.engineLoaded).toEqual(['pac-engine.cjs']);
  });

  it('route names the memory; an answer remembered on another network is forgotten', async () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    const pac = join(dir, 'route.pac');
    writeFileSync(pac, 'function FindProxyForURL(url, host) { return "PROXY proxy.corp.example:3128"; }\n');
    const env = cleanEnv({ XDG_CACHE_HOME: cache });
    const route = async () => JSON.parse((await runBurrow(['route', '--pac', pac, NAME, '22', '--json'], { env, input: '' })).stdout.toString()) as { plan: Array<{ reason: string; pac?: { remembered_at?: string } }> };
    expect((await route()).plan[0]!.pac!.remembered_at).toBeUndefined();
    const remembered = (await route()).plan[0]!;
    expect(remembered.reason).toMatch(/; PAC answer remembered from \d\d:\d\d$/);
    expect(Date.parse(remembered.pac!.remembered_at!)).not.toBeNaN();

    // The store stamps each entry with the network it was written on (the interface addresses); an entry from
    // another network is what a laptop that moved finds.
    const file = join(cache, 'burrow', 'pac-answers.json');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, { net: string }> };
    for (const entry of Object.values(stored.entries)) entry.net = 'another-network';
    writeFileSync(file, JSON.stringify(stored));
    expect((await route()).plan[0]!.pac!.remembered_at).toBeUndefined();
  });

  it('a PAC that uses time functions is never remembered', async () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    const pac = join(dir, 'time.pac');
    writeFileSync(pac, 'function FindProxyForURL(url, host) { return timeRange(0, 23) ? "PROXY a.example:1" : "DIRECT"; }\n');
    const env = cleanEnv({ XDG_CACHE_HOME: cache });
    for (let i = 0; i < 2; i++) {
      const result = await runBurrow(['route', '--pac', pac, NAME, '22', '--json'], { env, input: '' });
      expect(JSON.parse(result.stdout.toString()).plan[0].pac.remembered_at).toBeUndefined();
    }
    expect(existsSync(join(cache, 'burrow', 'pac-answers.json'))).toBe(false);
  });
});
