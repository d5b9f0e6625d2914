// A PAC URL's script kept between runs with its HTTP validators (src/route/pac-scripts.ts, pac-freshness.ts), and its
// answers remembered as a PAC file's are (pac-memory.ts), end to end through bin/burrow against a node:http server
// that counts requests and records their headers: max-age means no request at all; ETag + no-cache a conditional GET
// and 304 (a changed ETag and script obeyed at once); Last-Modified alone If-Modified-Since; no-store never kept;
// --fresh unconditional; a changed network forgets the copy; the copy is 0600 in a 0700 directory and a corrupt or
// symlinked store file is ignored.
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startConnectProxy, startEchoServer } from '../helpers/node-peers.ts';
import { pacEngineSpy } from '../helpers/pac-engine-spy.ts';
import { startPacServer, type PacReply } from '../helpers/pac-server.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { makeTestCa, startTlsFront } from '../helpers/tls-proxy.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();
const NAME = 'sshd.burrow.test';
const dir = mkdtempSync(join(tmpdir(), 'burrow-pac-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pacFor = (proxy: string) => `function FindProxyForURL(url, host) { return "PROXY ${proxy}"; }\n`;

interface PlanJson {
  plan: Array<{ hops: string[]; reason: string; pac: { answer: string; remembered_at?: string; script?: { how: string; at: string; fresh_until?: string } } }>;
}

/** `burrow route --pac URL NAME 22 --json` with its own state directory (`cache`). */
async function route(url: string, cache: string, extra: string[] = []): Promise<PlanJson['plan'][number]> {
  const result = await runBurrow(['route', ...extra, '--pac', url, NAME, '22', '--json'], { env: cleanEnv({ XDG_CACHE_HOME: cache }), input: '' });
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout.toString()) as PlanJson).plan[0]!;
}

const newCache = () => mkdtempSync(join(dir, 'cache-'));
const storeFile = (cache: string) => join(cache, 'burrow', 'pac-scripts.json');

describe('a PAC URL kept with its HTTP validators', () => {
  it('max-age: the second run makes no request, and its answer is remembered; the route stays right', async () => {
    const server = await track(startPacServer(() => ({ headers: { 'cache-control': 'max-age=600' }, body: pacFor('proxy-a.example:3128') })));
    const cache = newCache();
    const first = await route(`${server.url}/proxy.pac`, cache);
    expect(first.hops).toEqual(['http://proxy-a.example:3128']);
    expect(first.pac.script).toMatchObject({ how: 'fetched' });
    expect(Date.parse(first.pac.script!.fresh_until!) - Date.parse(first.pac.script!.at)).toBe(600_000);
    expect(first.reason).toMatch(/; PAC script fetched at \d\d:\d\d, fresh until \d\d:\d\d$/);

    const second = await route(`${server.url}/proxy.pac`, cache);
    expect(server.requests).toHaveLength(1);
    expect(second.hops).toEqual(['http://proxy-a.example:3128']);
    expect(second.pac.script).toEqual(first.pac.script && { ...first.pac.script, how: 'kept' });
    expect(second.pac.remembered_at).toBeDefined();
    expect(second.reason).toMatch(/; PAC script kept from \d\d:\d\d, fresh until \d\d:\d\d; PAC answer remembered from \d\d:\d\d$/);
  });

  it('a redirect is followed on each fetch, and the copy is kept under the URL the user gave', async () => {
    const server = await track(
      startPacServer(({ path }): PacReply => (path === '/moved' ? { status: 302, headers: { location: '/proxy.pac' } } : { headers: { 'cache-control': 'max-age=600' }, body: pacFor('proxy-r.example:1') })),
    );
    const cache = newCache();
    expect((await route(`${server.url}/moved`, cache)).hops).toEqual(['http://proxy-r.example:1']);
    expect((await route(`${server.url}/moved`, cache)).pac.script?.how).toBe('kept');
    expect(server.requests.map((r) => r.path)).toEqual(['/moved', '/proxy.pac']);
  });

  it('ETag + no-cache: the next run sends If-None-Match and takes the 304; a changed ETag and script are obeyed at once', async () => {
    let version = { etag: '"v1"', body: pacFor('proxy-a.example:3128') };
    const server = await track(
      startPacServer(({ headers }): PacReply => (headers['if-none-match'] === version.etag ? { status: 304, headers: { etag: version.etag, 'cache-control': 'no-cache' } } : { headers: { etag: version.etag, 'cache-control': 'no-cache' }, body: version.body })),
    );
    const cache = newCache();
    const url = `${server.url}/proxy.pac`;
    const first = await route(url, cache);
    expect(first.pac.script).toMatchObject({ how: 'fetched' });
    expect(first.pac.script!.fresh_until).toBe(first.pac.script!.at);
    expect(first.reason).toMatch(/; PAC script fetched at \d\d:\d\d, revalidated on each run$/);

    const second = await route(url, cache);
    expect(server.requests.map((r) => r.headers['if-none-match'])).toEqual([undefined, '"v1"']);
    expect(second.pac.script).toMatchObject({ how: 'revalidated' });
    expect(second.hops).toEqual(['http://proxy-a.example:3128']);
    // The same script: its answer was remembered.
    expect(second.pac.remembered_at).toBeDefined();
    expect(second.reason).toMatch(/; PAC script revalidated \(304\) at \d\d:\d\d, revalidated on each run; PAC answer remembered from/);

    version = { etag: '"v2"', body: pacFor('proxy-b.example:3128') };
    const changed = await route(url, cache);
    expect(server.requests[2]!.headers['if-none-match']).toBe('"v1"');
    expect(changed.pac.script).toMatchObject({ how: 'fetched' });
    expect(changed.hops).toEqual(['http://proxy-b.example:3128']);
    expect(changed.pac.remembered_at).toBeUndefined();

    await route(url, cache);
    expect(server.requests[3]!.headers['if-none-match']).toBe('"v2"');
  });

  it('Last-Modified alone: the next run sends If-Modified-Since', async () => {
    // Date equal to Last-Modified: the heuristic gives no freshness, so the second run must ask.
    const stamp = new Date(Math.floor(Date.now() / 1000) * 1000).toUTCString();
    const server = await track(
      startPacServer(({ headers }): PacReply => (headers['if-modified-since'] === stamp ? { status: 304, headers: { date: stamp } } : { headers: { date: stamp, 'last-modified': stamp }, body: pacFor('proxy-a.example:3128') })),
    );
    const cache = newCache();
    await route(`${server.url}/proxy.pac`, cache);
    const second = await route(`${server.url}/proxy.pac`, cache);
    expect(server.requests.map((r) => r.headers['if-modified-since'])).toEqual([undefined, stamp]);
    expect(server.requests[1]!.headers['if-none-match']).toBeUndefined();
    expect(second.pac.script?.how).toBe('revalidated');
    expect(second.hops).toEqual(['http://proxy-a.example:3128']);
  });

  it('a 304 updates the kept headers, but its missing Date is not the old one (which would stretch an Expires)', async () => {
    const now = Date.now();
    const server = await track(
      startPacServer(({ headers }): PacReply =>
        headers['if-none-match'] === '"v1"'
          ? // A 304 without Date and with a new Expires, 30 minutes from now.
            { status: 304, sendDate: false, headers: { etag: '"v1"', expires: new Date(now + 30 * 60_000).toUTCString() } }
          : { headers: { etag: '"v1"', date: new Date(now - 2 * 3600_000).toUTCString(), expires: new Date(now - 2 * 3600_000).toUTCString() }, body: pacFor('proxy-a.example:3128') },
      ),
    );
    const cache = newCache();
    await route(`${server.url}/proxy.pac`, cache);
    const { script } = (await route(`${server.url}/proxy.pac`, cache)).pac;
    expect(script?.how).toBe('revalidated');
    // Fresh until the new Expires (not 2.5 h: new Expires minus the first response's Date).
    expect(Math.abs(Date.parse(script!.fresh_until!) - (now + 30 * 60_000))).toBeLessThan(2000);
  });

  it('no-store: never kept, each run fetches it whole', async () => {
    const server = await track(startPacServer(() => ({ headers: { 'cache-control': 'no-store, max-age=600', etag: '"x"' }, body: pacFor('proxy-a.example:3128') })));
    const cache = newCache();
    const first = await route(`${server.url}/proxy.pac`, cache);
    const second = await route(`${server.url}/proxy.pac`, cache);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.headers['if-none-match']).toBeUndefined();
    for (const run of [first, second]) {
      expect(run.pac.script).toEqual({ how: 'fetched', at: expect.any(String) });
      expect(run.reason).toMatch(/; PAC script fetched at \d\d:\d\d, not kept/);
    }
    expect(() => statSync(storeFile(cache))).toThrow();
  });

  it('--fresh fetches unconditionally and keeps the result', async () => {
    const server = await track(startPacServer(() => ({ headers: { 'cache-control': 'max-age=600', etag: '"v1"' }, body: pacFor('proxy-a.example:3128') })));
    const cache = newCache();
    const url = `${server.url}/proxy.pac`;
    await route(url, cache);
    const fresh = await route(url, cache, ['--fresh']);
    expect(fresh.pac.script?.how).toBe('fetched');
    expect(fresh.pac.remembered_at).toBeUndefined();
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.headers['if-none-match']).toBeUndefined();
    const after = await route(url, cache);
    expect(after.pac.script).toEqual({ ...fresh.pac.script, how: 'kept' });
    expect(server.requests).toHaveLength(2);
  });

  it('a changed network forgets the kept script', async () => {
    const server = await track(startPacServer(() => ({ headers: { 'cache-control': 'max-age=600' }, body: pacFor('proxy-a.example:3128') })));
    const cache = newCache();
    await route(`${server.url}/proxy.pac`, cache);
    // The store stamps each entry with the network it was written on (the interface addresses): an entry from
    // another network is what a laptop that moved finds.
    const stored = JSON.parse(readFileSync(storeFile(cache), 'utf8')) as { entries: Record<string, { net: string }> };
    for (const entry of Object.values(stored.entries)) entry.net = 'another-network';
    writeFileSync(storeFile(cache), JSON.stringify(stored));
    expect((await route(`${server.url}/proxy.pac`, cache)).pac.script?.how).toBe('fetched');
    expect(server.requests).toHaveLength(2);
  });

  it('the copy is 0600 in a 0700 directory; a corrupt or symlinked store file is ignored', async () => {
    const server = await track(startPacServer(() => ({ headers: { 'cache-control': 'max-age=600' }, body: pacFor('proxy-a.example:3128') })));
    const url = `${server.url}/proxy.pac`;
    const cache = newCache();
    await route(url, cache);
    expect(statSync(storeFile(cache)).mode & 0o777).toBe(0o600);
    expect(statSync(join(cache, 'burrow')).mode & 0o777).toBe(0o700);
    expect(readFileSync(storeFile(cache), 'utf8')).toContain('FindProxyForURL');

    writeFileSync(storeFile(cache), '{"format": 1, "entries": ');
    expect((await route(url, cache)).pac.script?.how).toBe('fetched');
    expect(server.requests).toHaveLength(2);

    // A symlink to a valid store (another user's, say) is not followed: fetched again, and replaced by a file.
    const elsewhere = newCache();
    await route(url, elsewhere);
    rmSync(storeFile(cache));
    symlinkSync(storeFile(elsewhere), storeFile(cache));
    expect((await route(url, cache)).pac.script?.how).toBe('fetched');
    expect(server.requests).toHaveLength(4);
    expect(lstatSync(storeFile(cache)).isSymbolicLink()).toBe(false);
  });

  it('a kept entry whose validator could not go into a request header is ignored, not sent', async () => {
    const server = await track(startPacServer(() => ({ headers: { 'cache-control': 'no-cache', etag: '"v1"' }, body: pacFor('proxy-a.example:3128') })));
    const cache = newCache();
    await route(`${server.url}/proxy.pac`, cache);
    const stored = JSON.parse(readFileSync(storeFile(cache), 'utf8')) as { entries: Record<string, { value: { headers: { etag: string } } }> };
    for (const entry of Object.values(stored.entries)) entry.value.headers.etag = '"v1"\r\nX-Injected: yes';
    writeFileSync(storeFile(cache), JSON.stringify(stored));
    expect((await route(`${server.url}/proxy.pac`, cache)).pac.script?.how).toBe('fetched');
    expect(server.requests[1]!.headers['if-none-match']).toBeUndefined();
    expect(server.requests[1]!.headers['x-injected']).toBeUndefined();
  });

  it('an https PAC URL is checked against the trust store (NODE_EXTRA_CA_CERTS here), then kept like any other', async () => {
    const ca = makeTestCa('burrow PAC test CA');
    const server = await track(startPacServer(() => ({ headers: { 'cache-control': 'max-age=600' }, body: pacFor('proxy-tls.example:3128') })));
    const front = await track(startTlsFront(ca, server));
    const url = `https://127.0.0.1:${front.port}/proxy.pac`;
    const untrusted = await runBurrow(['route', '--pac', url, NAME, '22'], { env: cleanEnv({ XDG_CACHE_HOME: newCache() }), input: '' });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/^burrow: cannot load the PAC file https:.*(certificate|UNABLE_TO_VERIFY|SELF_SIGNED)/i);
    expect(server.requests).toHaveLength(0);

    const cache = newCache();
    const trusted = async () => {
      const result = await runBurrow(['route', '--pac', url, NAME, '22', '--json'], { env: cleanEnv({ XDG_CACHE_HOME: cache, NODE_EXTRA_CA_CERTS: ca.caFile }), input: '' });
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout.toString()) as PlanJson).plan[0]!;
    };
    expect((await trusted()).hops).toEqual(['http://proxy-tls.example:3128']);
    const handshakes = front.handshakes;
    expect((await trusted()).pac.script?.how).toBe('kept');
    expect(front.handshakes).toBe(handshakes);
    expect(server.requests).toHaveLength(1);
    rmSync(ca.dir, { recursive: true, force: true });
  });

  it('a fetch that fails is an error even with a kept copy (no stale fallback)', async () => {
    let up = true;
    const server = await track(startPacServer(() => (up ? { headers: { 'cache-control': 'max-age=0', etag: '"v1"' }, body: pacFor('proxy-a.example:3128') } : { status: 503 })));
    const cache = newCache();
    await route(`${server.url}/proxy.pac`, cache);
    up = false;
    const result = await runBurrow(['route', '--pac', `${server.url}/proxy.pac`, NAME, '22'], { env: cleanEnv({ XDG_CACHE_HOME: cache }), input: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^burrow: cannot load the PAC file http:\/\/127\.0\.0\.1:\d+\/proxy\.pac: the server answered HTTP 503 .*; hint: /);
  });
});

describe('a PAC URL answer remembered in connect', () => {
  it('the second connect takes the route from the memory without loading the engine or fetching the script', async () => {
    const proxy = await track(startConnectProxy({ hosts: { [NAME]: '127.0.0.1' } }));
    const target = await track(startEchoServer());
    const server = await track(startPacServer(() => ({ headers: { 'cache-control': 'max-age=600' }, body: pacFor(`127.0.0.1:${proxy.port}`) })));
    const cache = newCache();
    const watchEngine = pacEngineSpy(dir);
    const connect = async () => {
      const watch = watchEngine();
      const result = await runBurrow(['connect', '--pac', `${server.url}/proxy.pac`, NAME, String(target.port)], { env: cleanEnv({ XDG_CACHE_HOME: cache, ...watch.env }), input: 'ping' });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.toString()).toBe('ping');
      return watch.loaded();
    };
    expect(await connect()).toContain('pac-engine.cjs');
    expect(await connect()).toEqual([]);
    expect(server.requests).toHaveLength(1);
    expect(proxy.requests).toHaveLength(2);
  });
});
