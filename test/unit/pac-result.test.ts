import { describe, expect, it } from 'vitest';
import { pacUrlFor, parsePacAnswer } from '../../src/route/pac-result.ts';

// FindProxyForURL's answer -> alternatives in order: one table of answers and the proxies burrow will try.
type Row = [why: string, answer: unknown, entries: string[], problems: RegExp[]];

const rows: Row[] = [
  ['one proxy', 'PROXY proxy.corp:3128', ['http://proxy.corp:3128'], []],
  ['DIRECT', 'DIRECT', ['direct'], []],
  ['failover list, in order', 'PROXY a.corp:3128; PROXY b.corp:8080; DIRECT', ['http://a.corp:3128', 'http://b.corp:8080', 'direct'], []],
  ['every keyword', 'PROXY a:1; HTTP b:2; HTTPS c:3; SOCKS d:4; SOCKS4 e:5; SOCKS5 f:6', ['http://a:1', 'http://b:2', 'https://c:3', 'socks5h://d:4', 'socks4://e:5', 'socks5h://f:6'], []],
  ['keywords in any case', 'proxy a:1; Socks5 b:2; direct', ['http://a:1', 'socks5h://b:2', 'direct'], []],
  ['extra spaces and empty entries', '  PROXY   a:1 ;; ;DIRECT; ', ['http://a:1', 'direct'], []],
  ['a trailing semicolon', 'PROXY a:1;', ['http://a:1'], []],
  ['default ports', 'PROXY a; HTTPS b; SOCKS c; SOCKS4 d', ['http://a:80', 'https://b:443', 'socks5h://c:1080', 'socks4://d:1080'], []],
  ['IPv6 in brackets', 'PROXY [2001:db8::1]:3128', ['http://[2001:db8::1]:3128'], []],
  ['IPv4 literal', 'SOCKS5 10.0.0.1:1080', ['socks5h://10.0.0.1:1080'], []],
  ['host name case is folded', 'PROXY Proxy.CORP:3128', ['http://proxy.corp:3128'], []],
  ['duplicates are tried once', 'PROXY a:1; PROXY a:1; DIRECT; DIRECT', ['http://a:1', 'direct'], []],
  ['empty answer is DIRECT', '', ['direct'], []],
  ['blank answer is DIRECT', '   ', ['direct'], []],
  ['null is DIRECT', null, ['direct'], []],
  ['undefined is DIRECT', undefined, ['direct'], []],
  ['a number is DIRECT, with a problem', 42, ['direct'], [/number/]],
  ['unknown keyword is skipped', 'FTP a:21; PROXY b:1', ['http://b:1'], [/unknown keyword FTP/]],
  ['missing address is skipped', 'PROXY; DIRECT', ['direct'], [/needs exactly one HOST:PORT/]],
  ['two addresses are skipped', 'PROXY a:1 b:2; DIRECT', ['direct'], [/needs exactly one/]],
  ['bad port is skipped', 'PROXY a:99999; PROXY b:1', ['http://b:1'], [/port "99999"/]],
  ['non-numeric port is skipped', 'PROXY a:http', ['direct'], [/port "http"/]],
  ['a host with a slash is skipped', 'PROXY a/b:1', ['direct'], [/not a valid HOST:PORT/]],
  ['a userinfo is skipped', 'PROXY u@a:1', ['direct'], [/not a valid HOST:PORT/]],
  ['nothing usable is DIRECT, problems reported', 'BOGUS x', ['direct'], [/unknown keyword/]],
  ['DIRECT with an address still DIRECT', 'DIRECT a:1', ['direct'], [/DIRECT takes no address/]],
];

describe('parsePacAnswer', () => {
  it.each(rows)('%s', (_why, answer, entries, problems) => {
    const parsed = parsePacAnswer(answer);
    expect(parsed.entries.map((e) => (e.kind === 'direct' ? 'direct' : e.text))).toEqual(entries);
    expect(parsed.problems).toHaveLength(problems.length);
    problems.forEach((p, i) => expect(parsed.problems[i]).toMatch(p));
  });
});

describe('pacUrlFor', () => {
  it.each([
    ['jump.example.org', 22, 'https://jump.example.org:22/'],
    ['www.example.org', 443, 'https://www.example.org/'],
    ['www.example.org', 80, 'http://www.example.org/'],
    ['10.1.2.3', 3128, 'https://10.1.2.3:3128/'],
    ['2001:db8::1', 22, 'https://[2001:db8::1]:22/'],
  ] as const)('%s %d -> %s', (host, port, url) => {
    expect(pacUrlFor(host, port)).toBe(url);
  });
});
