import { describe, expect, it } from 'vitest';
import { isLoopbackTarget, matchNoProxy, parseNoProxy } from '../../src/route/no-proxy.ts';

// NO_PROXY follows Go's golang.org/x/net/http/httpproxy (REFERENCE.md §2, "Go net/http" column), so that burrow
// and tsh make the same choice for every target. Each row: the NO_PROXY text, the target host and port, and the
// entry that sends it direct (as parseNoProxy keeps it: trimmed and lower-cased), or undefined when the target
// still goes through the proxy.
type Row = [noProxy: string, host: string, port: number, entry: string | undefined];

const rows: Row[] = [
  // "*" means never proxy, wherever it stands in the list; it has to be the whole entry.
  ['*', 'git.corp.example', 22, '*'],
  ['a.example, *', 'git.corp.example', 22, '*'],
  ['a.example,*,b.example', '2001:db8::1', 22, '*'],
  ['  *  ', '192.0.2.10', 443, '*'],
  ['**', 'git.corp.example', 22, undefined],
  ['*example', 'git.corp.example', 22, undefined],

  // "d.com" matches d.com and every subdomain, on label boundaries only.
  ['corp.example', 'corp.example', 22, 'corp.example'],
  ['corp.example', 'git.corp.example', 22, 'corp.example'],
  ['corp.example', 'a.b.corp.example', 22, 'corp.example'],
  ['corp.example', 'xcorp.example', 22, undefined],
  ['corp.example', 'corp.example.net', 22, undefined],
  ['corp.example', 'example', 22, undefined],
  ['orp.example', 'corp.example', 22, undefined],

  // ".d.com" and "*.d.com" match subdomains only.
  ['.corp.example', 'corp.example', 22, undefined],
  ['.corp.example', 'git.corp.example', 22, '.corp.example'],
  ['.corp.example', 'xcorp.example', 22, undefined],
  ['*.corp.example', 'corp.example', 22, undefined],
  ['*.corp.example', 'git.corp.example', 22, '*.corp.example'],
  ['*.corp.example', 'xcorp.example', 22, undefined],

  // "d.com:22" applies to port 22 only; the port has to match exactly.
  ['corp.example:22', 'corp.example', 22, 'corp.example:22'],
  ['corp.example:22', 'corp.example', 443, undefined],
  ['corp.example:22', 'git.corp.example', 22, 'corp.example:22'],
  ['.corp.example:22', 'git.corp.example', 22, '.corp.example:22'],
  ['.corp.example:22', 'git.corp.example', 2222, undefined],
  ['*.corp.example:3022', 'tele.corp.example', 3022, '*.corp.example:3022'],
  ['*.corp.example:3022', 'tele.corp.example', 3023, undefined],
  ['corp.example:ssh', 'corp.example', 22, undefined],
  ['corp.example:022', 'corp.example', 22, undefined],
  // An empty port after the colon is no port at all (net.SplitHostPort gives ""): any port matches.
  ['corp.example:', 'corp.example', 8443, 'corp.example:'],

  // IPv4 literals, with and without a port.
  ['192.0.2.10', '192.0.2.10', 22, '192.0.2.10'],
  ['192.0.2.10', '192.0.2.11', 22, undefined],
  ['192.0.2.10', '192.0.2.100', 22, undefined],
  ['1.2.3.4:80', '1.2.3.4', 80, '1.2.3.4:80'],
  ['1.2.3.4:80', '1.2.3.4', 22, undefined],
  ['[192.0.2.10]:80', '192.0.2.10', 80, '[192.0.2.10]:80'],

  // IPv6 literals: bare, and "[v6]:port"; compared as addresses, not as text.
  ['2001:db8::1', '2001:db8::1', 22, '2001:db8::1'],
  ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', 22, '2001:db8::1'],
  ['2001:0db8:0000::0001', '2001:db8::1', 22, '2001:0db8:0000::0001'],
  ['2001:db8::1', '2001:db8::2', 22, undefined],
  ['[2001:db8::1]:22', '2001:db8::1', 22, '[2001:db8::1]:22'],
  ['[2001:db8::1]:22', '2001:db8::1', 443, undefined],
  ['[::1]:22', '::1', 22, '[::1]:22'],
  ['[::1]:22', '::1', 80, undefined],
  // Go's SplitHostPort rejects "[v6]" without a port, and ParseIP rejects the brackets: the entry matches nothing.
  ['[2001:db8::1]', '2001:db8::1', 22, undefined],

  // IPv4-mapped IPv6 addresses equal their IPv4 form, in both directions (net.IP.Equal).
  ['192.0.2.10', '::ffff:192.0.2.10', 22, '192.0.2.10'],
  ['::ffff:192.0.2.10', '192.0.2.10', 22, '::ffff:192.0.2.10'],
  ['[::ffff:192.0.2.10]:22', '192.0.2.10', 22, '[::ffff:192.0.2.10]:22'],

  // IPv6 zones: an address with a zone is still that address, and the zone is never read as a name
  // (CVE-2025-22870, fixed in x/net 0.36: "*.example.com" must not match "[::1%25.example.com]").
  ['2001:db8::1', '2001:db8::1%eth0', 22, '2001:db8::1'],
  ['corp.example', '2001:db8::1%.corp.example', 22, undefined],
  ['*.corp.example', '2001:db8::1%.corp.example', 22, undefined],

  // Domain entries never match IP-literal targets (x/net 0.36: domainMatch returns false when the target is an IP).
  ['0.2.10', '192.0.2.10', 22, undefined],
  ['.2.10', '192.0.2.10', 22, undefined],

  // CIDR, v4 and v6: IP-literal targets only, and never by resolving a name.
  ['10.0.0.0/8', '10.200.3.4', 22, '10.0.0.0/8'],
  ['10.0.0.0/8', '11.0.0.1', 22, undefined],
  ['192.0.2.0/30', '192.0.2.3', 22, '192.0.2.0/30'],
  ['192.0.2.0/30', '192.0.2.4', 22, undefined],
  ['192.0.2.9/24', '192.0.2.200', 22, '192.0.2.9/24'],
  ['127.0.0.0/8', 'localhost', 22, undefined],
  ['10.0.0.0/8', 'ten.corp.example', 22, undefined],
  ['2001:db8::/32', '2001:db8:ffff::1', 22, '2001:db8::/32'],
  ['2001:db8::/32', '2001:db9::1', 22, undefined],
  ['10.0.0.0/8', '::ffff:10.1.2.3', 22, '10.0.0.0/8'],
  ['::ffff:10.0.0.0/104', '10.1.2.3', 22, '::ffff:10.0.0.0/104'],
  ['::/0', '2001:db8::1', 22, '::/0'],
  ['::/0', '10.1.2.3', 22, undefined],
  ['0.0.0.0/0', '2001:db8::1', 22, undefined],
  ['0.0.0.0/0', '198.51.100.7', 22, '0.0.0.0/0'],
  // A CIDR takes no port, and a prefix longer than the address is no CIDR: neither matches anything.
  ['10.0.0.0/8:22', '10.1.2.3', 22, undefined],
  ['10.0.0.0/33', '10.0.0.0', 22, undefined],

  // Case does not matter, in the list or in the target.
  ['Corp.EXAMPLE', 'git.corp.example', 22, 'corp.example'],
  ['corp.example', 'GIT.Corp.Example', 22, 'corp.example'],
  ['2001:DB8::ABCD', '2001:db8::abcd', 22, '2001:db8::abcd'],

  // Whitespace around entries and empty entries are ignored.
  ['  corp.example  ,  other.example ', 'other.example', 22, 'other.example'],
  ['\tcorp.example\n', 'corp.example', 22, 'corp.example'],
  [',,corp.example,,', 'corp.example', 22, 'corp.example'],
  ['', 'corp.example', 22, undefined],
  [' , ,  ', 'corp.example', 22, undefined],
  ['corp .example', 'corp.example', 22, undefined],

  // Malformed entries with no host are skipped, and the rest of the list still applies.
  [':22', 'corp.example', 22, undefined],
  [':22, corp.example', 'corp.example', 22, 'corp.example'],
  ['[]:22', 'corp.example', 22, undefined],

  // IDN names compare in their ASCII (punycode) form, whichever form each side is written in.
  ['bücher.example', 'shop.xn--bcher-kva.example', 22, 'bücher.example'],
  ['xn--bcher-kva.example', 'shop.bücher.example', 22, 'xn--bcher-kva.example'],
  ['.bücher.example', 'shop.bücher.example', 22, '.bücher.example'],
  ['.bücher.example', 'bücher.example', 22, undefined],
  ['bücher.example', 'bucher.example', 22, undefined],
  ['示例.example', 'www.示例.example', 22, '示例.example'],

  // The first matching entry is the one reported.
  ['corp.example, git.corp.example', 'git.corp.example', 22, 'corp.example'],
  ['corp.example:443, .corp.example', 'git.corp.example', 22, '.corp.example'],
];

describe('matchNoProxy (Go httpproxy semantics)', () => {
  it.each(rows)('NO_PROXY=%j, target %s port %i -> %j', (noProxy, host, port, entry) => {
    expect(matchNoProxy(parseNoProxy(noProxy), host, port)).toBe(entry);
  });

  it('has no loopback rule of its own: that is the caller’s (isLoopbackTarget)', () => {
    expect(matchNoProxy(parseNoProxy('corp.example'), 'localhost', 22)).toBeUndefined();
    expect(matchNoProxy(parseNoProxy(''), '127.0.0.1', 22)).toBeUndefined();
  });
});

// What parseNoProxy keeps aside as unusable, for warnings.
type ParseRow = [noProxy: string | undefined, ignored: string[]];

const parseRows: ParseRow[] = [
  [undefined, []],
  ['', []],
  ['corp.example, 10.0.0.0/8, [::1]:22', []],
  [':22', [':22']],
  [' :22 , corp.example, :80', [':22', ':80']],
  ['[]:22', ['[]:22']],
  ['xn--ä.example, a..b:22', []],
  // "*" ends the parse: everything is direct, nothing else is worth a warning.
  [':22, *', []],
];

describe('parseNoProxy', () => {
  it.each(parseRows)('NO_PROXY=%j ignores %j', (noProxy, ignored) => {
    // Entries without a host here; those that are not host names: test/unit/host-name.test.ts.
    expect(parseNoProxy(noProxy).ignored.filter((i) => i.why === 'no host').map((i) => i.entry)).toEqual(ignored);
  });

  it('never throws on garbage', () => {
    for (const text of ['[', ']', '[:', ':', '::', '/', '/8', '1.2.3.4/', '[::1', '::1]:22', '*.', '.', ',', '%', 'a:b:c']) {
      expect(() => matchNoProxy(parseNoProxy(text), 'corp.example', 22)).not.toThrow();
    }
  });
});

// Go's httpproxy never proxies "localhost" or a loopback IP literal, whatever NO_PROXY says.
const loopbackRows: [host: string, loopback: boolean][] = [
  ['localhost', true],
  ['127.0.0.1', true],
  ['127.0.0.2', true],
  ['127.255.255.254', true],
  ['::1', true],
  ['0:0:0:0:0:0:0:1', true],
  ['::ffff:127.0.0.1', true],
  ['::2', false],
  ['::', false],
  ['0.0.0.0', false],
  ['128.0.0.1', false],
  ['126.255.255.255', false],
  ['10.0.0.1', false],
  ['localhost.corp.example', false],
  ['local.localhost', false],
  ['localhost.', false],
  ['127.0.0.1.nip.example', false],
  ['example.com', false],
];

describe('isLoopbackTarget', () => {
  it.each(loopbackRows)('%s -> %s', (host, loopback) => {
    expect(isLoopbackTarget(host)).toBe(loopback);
  });
});
