import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentProfileAddress, discoverAddress, parseTeleportAddress, withProxyPort } from '../../src/teleport/address.ts';
import { goNoProxy, goProxyUrl, tshCannotAuthenticate, tshCannotUse } from '../../src/teleport/go-env.ts';
import { parseProxyUrl } from '../../src/route/proxy-url.ts';
import { probeStore } from '../../src/teleport/probe-cache.ts';

describe('parseTeleportAddress', () => {
  it.each([
    ['tele.example.org', { host: 'tele.example.org', port: 443, hadPort: false }],
    ['tele.example.org:3080', { host: 'tele.example.org', port: 3080, hadPort: true }],
    ['tele.example.org:3080,3023', { host: 'tele.example.org', port: 3080, hadPort: true }],
    ['https://tele.example.org/', { host: 'tele.example.org', port: 443, hadPort: false }],
    ['[2001:db8::1]:443', { host: '2001:db8::1', port: 443, hadPort: true }],
  ])('%s', (text, expected) => expect(parseTeleportAddress(text, 'x')).toMatchObject(expected));
  it('rejects junk', () => expect(parseTeleportAddress('a b', 'x')).toBeUndefined());
});

describe('withProxyPort', () => {
  it.each([
    [['login', '--proxy=tele.example.org'], ['login', '--proxy=tele.example.org:443']],
    [['login', '--proxy', 'tele.example.org'], ['login', '--proxy', 'tele.example.org:443']],
    [['login', '--proxy=tele.example.org:3080'], ['login', '--proxy=tele.example.org:3080']],
    [['login', '--proxy=tele.example.org,3023'], ['login', '--proxy=tele.example.org:443,3023']],
    [['ssh', 'host'], ['ssh', 'host']],
  ])('%j', (args, expected) => expect(withProxyPort(args)).toEqual(expected));
});

describe('discoverAddress', () => {
  it('--proxy, then TELEPORT_PROXY, then the current profile', () => {
    const home = mkdtempSync(join(tmpdir(), 'burrow-tsh-home-'));
    mkdirSync(join(home, '.tsh'));
    writeFileSync(join(home, '.tsh', 'current-profile'), 'tele.example.org\n');
    writeFileSync(join(home, '.tsh', 'tele.example.org.yaml'), 'web_proxy_addr: tele.example.org:3080\nuser: alice\n');
    expect(discoverAddress(['login', '--proxy=a.org'], { HOME: home, TELEPORT_PROXY: 'b.org' })?.host).toBe('a.org');
    expect(discoverAddress(['ssh', 'x'], { HOME: home, TELEPORT_PROXY: 'b.org' })).toMatchObject({ host: 'b.org', source: 'TELEPORT_PROXY' });
    expect(discoverAddress(['ssh', 'x'], { HOME: home })).toMatchObject({ host: 'tele.example.org', port: 3080 });
    expect(currentProfileAddress({ HOME: join(home, 'nowhere') })).toBeUndefined();
  });
});

describe('Go export', () => {
  it('goProxyUrl percent-encodes userinfo and always has a port', () => {
    expect(goProxyUrl(parseProxyUrl('http://al%40ice:p%3Aw%20d@proxy:3128'))).toBe('http://al%40ice:p%3Aw%20d@proxy:3128');
    expect(goProxyUrl(parseProxyUrl('proxy.corp'))).toBe('http://proxy.corp:80');
    expect(goProxyUrl(parseProxyUrl('socks5://[::1]'))).toBe('socks5://[::1]:1080');
  });
  it('goNoProxy merges lists and writes *.d.com as .d.com', () => {
    expect(goNoProxy([' a.org, *.b.org ,, 10.0.0.0/8', 'tele:3023', undefined])).toBe('a.org,.b.org,10.0.0.0/8,tele:3023');
  });
  it.each([
    [[], {}, undefined],
    [['http://u:p@proxy:3128'], {}, undefined],
    [['socks5://proxy:1080'], {}, 'teleport#12220'],
    [['https://proxy:443'], { privateCa: true }, 'private'],
    [['socks5h://proxy:1080'], {}, 'socks5h'],
    [['socks4://proxy:1080'], {}, 'socks4'],
    [['http://proxy:3128', 'socks5h://b:1080'], {}, 'chain'],
    [['http://proxy:3128'], { credentialsFromElsewhere: true }, 'credentials'],
  ] as const)('tshCannotUse %j %j', (urls, options, expected) => {
    const result = tshCannotUse(urls.map((u) => parseProxyUrl(u)), options);
    if (expected === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(new RegExp(expected === 'private' ? 'proxy-ca' : expected));
  });
  // What the proxy demanded when burrow last dialed it decides whether tsh (Basic up front or nothing) can use it.
  it.each([
    ['http://proxy:3128', { scheme: 'none' }, undefined],
    ['http://u:p@proxy:3128', { scheme: 'basic' }, undefined],
    ['https://u:p@proxy:443', { scheme: 'basic' }, undefined],
    ['http://u:p@proxy:3128', { scheme: 'ntlm' }, 'asked for NTLM when burrow dialed http://proxy:3128'],
    ['http://u:p@proxy:3128', { scheme: 'digest' }, 'asked for Digest'],
    ['http://proxy:3128', { scheme: 'negotiate' }, 'asked for Negotiate'],
    ['http://proxy:3128', undefined, 'has not seen .* \\(why\\)'],
    ['socks5://proxy:1080', undefined, undefined],
  ] as const)('tshCannotAuthenticate %s %j', (url, seen, expected) => {
    const result = tshCannotAuthenticate(parseProxyUrl(url), seen, 'why');
    if (expected === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(new RegExp(expected));
  });
});

describe('probe cache', () => {
  it('keeps entries for a few minutes, per key', () => {
    const store = probeStore({ XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'burrow-cache-')) });
    expect(store.get('k')).toBeUndefined();
    store.set('k', { verdict: 'direct', noProxyEntry: 'h:3023' }, 1_000_000);
    expect(store.get('k', 1_000_000 + 60_000)?.value).toEqual({ verdict: 'direct', noProxyEntry: 'h:3023' });
    expect(store.get('other', 1_000_000)).toBeUndefined();
    expect(store.get('k', 1_000_000 + 6 * 60_000)).toBeUndefined();
  });
});
