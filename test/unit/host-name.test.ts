import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrown } from '../helpers/thrown.ts';
import { parseConfig } from '../../src/route/config.ts';
import { hostNameToAscii } from '../../src/route/host-name.ts';
import { matchNoProxy, parseNoProxy } from '../../src/route/no-proxy.ts';
import { compileRoutePolicy } from '../../src/route/policy.ts';
import { parseProxyUrl } from '../../src/route/proxy-url.ts';
import { matchHost, parseHostPattern } from '../../src/route/rules.ts';
import { makeTarget } from '../../src/route/target.ts';

// The one host-name rule (route/host-name.ts) and what each place does with a name that is not one: a proxy URL is
// a usage error naming it (exit 2), a NO_PROXY entry is ignored with a route warning and never matches, a config
// rule's host is a config error at its line.

const rows: Array<[text: string, ascii: string | undefined]> = [
  // Unicode names: IDNA, case folded
  ['bücher.example', 'xn--bcher-kva.example'],
  ['BÜCHER.Example', 'xn--bcher-kva.example'],
  ['例え.テスト', 'xn--r8jz45g.xn--zckzah'],
  ['ＡＢ.example', 'ab.example'],
  // punycode as written
  ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
  ['xn--ä.example', undefined],
  // ASCII is taken as written, as Go's net/http does: a label that is no valid punycode is still a DNS name
  ['xn--zz', 'xn--zz'],
  ['XN--A.a', 'xn--a.a'],
  // ASCII names
  ['proxy.corp', 'proxy.corp'],
  ['Proxy.CORP', 'proxy.corp'],
  ['build_01.corp', 'build_01.corp'],
  ['intranet', 'intranet'],
  [`${'a'.repeat(63)}.example`, `${'a'.repeat(63)}.example`],
  [`${'a'.repeat(64)}.example`, undefined],
  [Array(64).fill('abc').join('.'), undefined],
  // trailing dots: one is a fully qualified name, kept; more are an empty label
  ['proxy.corp.', 'proxy.corp.'],
  ['bücher.example.', 'xn--bcher-kva.example.'],
  ['proxy.corp..', undefined],
  ['.', undefined],
  ['a..b', undefined],
  ['.corp', undefined],
  // IP literals pass as they are
  ['10.0.0.1', '10.0.0.1'],
  ['::1', '::1'],
  ['fd00::1', 'fd00::1'],
  ['[::1]', undefined],
  ['999.1.1.1', undefined],
  // garbage
  ['', undefined],
  [' ', undefined],
  ['pro xy.corp', undefined],
  ['proxy.corp:3128', undefined],
  ['user@proxy.corp', undefined],
  ['proxy/corp', undefined],
  ['ex%41mple.com', undefined],
  ['*.corp', undefined],
  ['proxy\r\n.corp', undefined],
  ['a,b', undefined],
  ['exa!mple.com', undefined],
];

describe('hostNameToAscii', () => {
  it.each(rows)('%j -> %j', (text, ascii) => {
    expect(hostNameToAscii(text)).toBe(ascii);
  });

  it('never throws; an answer is ASCII, lower case, and a fixed point', () => {
    const text = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.domain(), fc.ipV6(), fc.ipV4());
    fc.assert(
      fc.property(text, (input) => {
        const ascii = hostNameToAscii(input);
        if (ascii === undefined) return;
        expect(ascii).toMatch(/^[\x21-\x7e]+$/);
        expect(ascii).toBe(ascii.toLowerCase());
        expect(hostNameToAscii(ascii)).toBe(ascii);
      }),
      { numRuns: 2000 },
    );
  });
});


describe('a proxy URL: the host must be a name (or an IP), else a usage error naming it', () => {
  it.each([
    ['socks5h://bücher.example:1080', 'xn--bcher-kva.example'],
    ['socks5://BÜCHER.example', 'xn--bcher-kva.example'],
    ['http://bücher.example:3128', 'xn--bcher-kva.example'],
    ['socks5://ex%41mple.com:1080', 'example.com'],
    ['http://proxy.corp.:3128', 'proxy.corp.'],
    ['socks5://[fd00::1]:1080', 'fd00::1'],
  ])('%s -> host %s', (text, host) => {
    expect(parseProxyUrl(text).host).toBe(host);
  });

  it.each([
    ['socks5://xn--ä.example:1080', 'xn--ä.example'],
    ['socks5h://a..b:1080', 'a..b'],
    ['http://a..b:3128', 'a..b'],
    ['socks5://exa!mple.com:1080', 'exa!mple.com'],
    ['socks5://proxy%zz.corp:1080', 'proxy%zz.corp'],
    ['http://user:secret@-bad-%2F.corp:3128', ''],
  ])('%s: usage error, exit 2, naming "%s"', (text, shown) => {
    const error = thrown(() => parseProxyUrl(text, 'HTTPS_PROXY'));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('HTTPS_PROXY');
    if (shown) expect(error.message).toContain(`"${shown}", which is not a valid host name`);
    expect(error.message).not.toContain('secret');
  });
});

describe('a NO_PROXY entry that is not a name: ignored with a warning, never matching', () => {
  it.each([
    ['xn--ä.example', 'xn--ä.example'],
    ['.xn--ä.example', 'xn--ä.example'],
    ['*.a..b', 'a..b'],
    ['corp/example', 'corp/example'],
    ['ex%41mple.com', 'example.com'],
  ])('%s never matches (tried against %s)', (entry, host) => {
    const list = parseNoProxy(`${entry},10.0.0.0/8`);
    expect(list.ignored).toEqual([{ entry, why: 'not a host name' }]);
    expect(matchNoProxy(list, host, 22)).toBeUndefined();
    expect(matchNoProxy(list, `x.${host}`, 22)).toBeUndefined();
    expect(matchNoProxy(list, '10.1.2.3', 22)).toBe('10.0.0.0/8');
  });

  it('Unicode and punycode entries match either spelling of the target; a trailing dot stays Go\'s literal', () => {
    const list = parseNoProxy('bücher.example,.xn--caf-dma.example,fqdn.example.');
    expect(list.ignored).toEqual([]);
    expect(matchNoProxy(list, 'xn--bcher-kva.example', 22)).toBe('bücher.example');
    expect(matchNoProxy(list, 'shop.bücher.example', 22)).toBe('bücher.example');
    expect(matchNoProxy(list, 'www.café.example', 22)).toBe('.xn--caf-dma.example');
    expect(matchNoProxy(list, 'fqdn.example.', 22)).toBe('fqdn.example.');
    expect(matchNoProxy(list, 'fqdn.example', 22)).toBeUndefined();
  });

  it('an ASCII target whose label is no valid punycode still matches by suffix, as in Go (fast-check found it)', () => {
    expect(matchNoProxy(parseNoProxy('a'), 'xn--a.a', 22)).toBe('a');
    expect(matchNoProxy(parseNoProxy('corp.example'), 'XN--ZZ.corp.example', 22)).toBe('corp.example');
  });

  it('a target that is no name matches no name entry, and "*" still matches it', () => {
    expect(matchNoProxy(parseNoProxy('example'), 'a..example', 22)).toBeUndefined();
    expect(matchNoProxy(parseNoProxy('*'), 'a..example', 22)).toBe('*');
  });

  it('route says so: the entry is named in a warning and the proxy is used', async () => {
    const policy = compileRoutePolicy({}, { HTTPS_PROXY: 'http://p.corp:3128', NO_PROXY: 'xn--ä.example,corp.example' }, undefined);
    const plan = await policy.resolve(makeTarget('git.lab.example', 22));
    expect(plan.alternatives[0]!.source).toEqual({ kind: 'environment', variable: 'HTTPS_PROXY' });
    expect(plan.warnings).toContain('NO_PROXY entry "xn--ä.example" is not a valid host name and is ignored');
  });
});

describe('a config rule host: a name, a glob of names, or a config error at its line', () => {
  it('Unicode exact names and glob labels take their IDNA form; a trailing dot is dropped as for targets', () => {
    const exact = parseHostPattern('Bücher.example.');
    expect(exact).toMatchObject({ kind: 'exact', name: 'xn--bcher-kva.example' });
    expect(matchHost(exact as Exclude<typeof exact, string>, 'xn--bcher-kva.example.')).toBe(true);
    const glob = parseHostPattern('*.bücher.example');
    expect(matchHost(glob as Exclude<typeof glob, string>, 'shop.xn--bcher-kva.example')).toBe(true);
  });

  it.each([
    ['xn--ä.example', /"xn--ä\.example" is not a valid host name/],
    ['a..b', /"a\.\.b" is not a valid host name/],
    ['ex%41mple.com', /not a valid host name/],
    ['*.xn--ä.example', /not a valid host name glob/],
    ['bü*.example', /not a valid host name glob/],
  ])('%s', (host, message) => {
    expect(parseHostPattern(host)).toMatch(message);
    const error = thrown(() => parseConfig(`rules:\n  - hosts: [ok.example, "${host}"]\n    direct: true\n`, '/etc/burrow.yaml'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/\/etc\/burrow\.yaml:2: rule 1 hosts: /);
  });
});
