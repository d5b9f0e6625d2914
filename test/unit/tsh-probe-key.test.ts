import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProxyUrl } from '../../src/route/proxy-url.ts';
import { probeKey } from '../../src/teleport/probe-cache.ts';

// `burrow tsh`'s remembered check is per proxy user (a keyed digest, never the user or password), per Teleport
// address, proxy and NO_PROXY. End to end with the Go tsh stand-in: test/integration/tsh.test.ts.
describe('probeKey', () => {
  const address = { host: 'teleport.example', port: 443 };
  const env = (extra: Record<string, string> = {}) => ({ XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'burrow-probe-key-')), HOME: '/nonexistent', ...extra });
  const key = (e: Record<string, string>, url: string, noProxy?: string) => {
    const hops = [parseProxyUrl(url)];
    return probeKey(e, address, hops, noProxy, hops);
  };

  it('without credentials: address, proxy and NO_PROXY in clear, as before', () => {
    expect(key(env(), 'http://proxy.corp:3128', '.corp')).toBe('teleport.example:443 via http://proxy.corp:3128 no_proxy=.corp');
  });

  it('one key per user and password, from the URL, ~/.netrc or BURROW_PROXY_USER, none of them in it', () => {
    const e = env();
    const alice = key(e, 'http://alice:right@proxy.corp:3128');
    expect(alice).toMatch(/^teleport\.example:443 via http:\/\/proxy\.corp:3128 no_proxy= as [0-9a-f]{32}$/);
    expect(key(e, 'http://alice:right@proxy.corp:3128')).toBe(alice);
    const others = [key(e, 'http://alice:wrong@proxy.corp:3128'), key(e, 'http://bob:right@proxy.corp:3128'), key(e, 'http://proxy.corp:3128')];
    expect(new Set([alice, ...others]).size).toBe(4);
    for (const k of [alice, ...others]) for (const secret of ['alice', 'bob', 'right', 'wrong']) expect(k).not.toContain(secret);

    const home = mkdtempSync(join(tmpdir(), 'burrow-probe-home-'));
    writeFileSync(join(home, '.netrc'), 'machine proxy.corp login carol password fromnetrc\n');
    const netrc = key({ ...e, HOME: home }, 'http://proxy.corp:3128');
    const variables = key({ ...e, BURROW_PROXY_USER: 'dave', BURROW_PROXY_PASSWORD: 'fromenv' }, 'http://proxy.corp:3128');
    expect(new Set([alice, netrc, variables, key(e, 'http://proxy.corp:3128')]).size).toBe(4);
    expect(netrc).toMatch(/ as [0-9a-f]{32}$/);
    expect(variables).toMatch(/ as [0-9a-f]{32}$/);
    // The digest's key stays in the state directory (0600); without it, no digest can be checked against a guess.
    expect(readFileSync(join(e.XDG_CACHE_HOME, 'burrow', 'key')).length).toBe(32);
  });
});
