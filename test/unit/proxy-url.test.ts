import { describe, expect, it } from 'vitest';
import { thrown } from '../helpers/thrown.ts';
import { displayProxy, parseProxyUrl, type ProxyEndpoint } from '../../src/route/proxy-url.ts';


// Each row: the text, the endpoint parseProxyUrl must return, and how displayProxy shows it.
type Row = [text: string, endpoint: ProxyEndpoint, display: string];

const ok = (scheme: ProxyEndpoint['scheme'], host: string, port: number, extra: Partial<ProxyEndpoint> = {}): ProxyEndpoint => ({
  scheme,
  host,
  port,
  schemeless: false,
  ...extra,
});

const rows: Row[] = [
  // Every scheme burrow speaks, with an explicit port.
  ['http://proxy.corp:3128', ok('http', 'proxy.corp', 3128), 'http://proxy.corp:3128'],
  ['https://proxy.corp:8443', ok('https', 'proxy.corp', 8443), 'https://proxy.corp:8443'],
  ['socks4://proxy.corp:1081', ok('socks4', 'proxy.corp', 1081), 'socks4://proxy.corp:1081'],
  ['socks4a://proxy.corp:1082', ok('socks4a', 'proxy.corp', 1082), 'socks4a://proxy.corp:1082'],
  ['socks5://proxy.corp:1083', ok('socks5', 'proxy.corp', 1083), 'socks5://proxy.corp:1083'],
  ['socks5h://proxy.corp:1084', ok('socks5h', 'proxy.corp', 1084), 'socks5h://proxy.corp:1084'],

  // Go's default ports when none is given (http 80, https 443, socks 1080), including a default port written out.
  ['http://proxy.corp', ok('http', 'proxy.corp', 80), 'http://proxy.corp:80'],
  ['https://proxy.corp', ok('https', 'proxy.corp', 443), 'https://proxy.corp:443'],
  ['socks4://proxy.corp', ok('socks4', 'proxy.corp', 1080), 'socks4://proxy.corp:1080'],
  ['socks4a://proxy.corp', ok('socks4a', 'proxy.corp', 1080), 'socks4a://proxy.corp:1080'],
  ['socks5://proxy.corp', ok('socks5', 'proxy.corp', 1080), 'socks5://proxy.corp:1080'],
  ['socks5h://proxy.corp', ok('socks5h', 'proxy.corp', 1080), 'socks5h://proxy.corp:1080'],
  ['http://proxy.corp:80', ok('http', 'proxy.corp', 80), 'http://proxy.corp:80'],
  ['https://proxy.corp:443', ok('https', 'proxy.corp', 443), 'https://proxy.corp:443'],
  ['http://proxy.corp:443', ok('http', 'proxy.corp', 443), 'http://proxy.corp:443'],
  ['socks5://proxy.corp:80', ok('socks5', 'proxy.corp', 80), 'socks5://proxy.corp:80'],

  // No scheme: http, as Go and curl read it, and flagged so that callers can warn.
  ['proxy.corp:3128', ok('http', 'proxy.corp', 3128, { schemeless: true }), 'http://proxy.corp:3128'],
  ['proxy.corp', ok('http', 'proxy.corp', 80, { schemeless: true }), 'http://proxy.corp:80'],
  ['localhost', ok('http', 'localhost', 80, { schemeless: true }), 'http://localhost:80'],
  ['10.1.2.3:8080', ok('http', '10.1.2.3', 8080, { schemeless: true }), 'http://10.1.2.3:8080'],
  ['[2001:db8::5]:3128', ok('http', '2001:db8::5', 3128, { schemeless: true }), 'http://[2001:db8::5]:3128'],
  ['user:pw@proxy.corp:3128', ok('http', 'proxy.corp', 3128, { schemeless: true, username: 'user', password: 'pw' }), 'http://proxy.corp:3128'],

  // Case: the scheme and the host name are case-insensitive.
  ['HTTP://PROXY.CORP:3128', ok('http', 'proxy.corp', 3128), 'http://proxy.corp:3128'],
  ['SOCKS5H://Proxy.Corp', ok('socks5h', 'proxy.corp', 1080), 'socks5h://proxy.corp:1080'],
  ['Https://proxy.corp', ok('https', 'proxy.corp', 443), 'https://proxy.corp:443'],

  // IPv6 hosts: brackets in the URL, none in the endpoint, brackets again in the display.
  ['http://[::1]:3128', ok('http', '::1', 3128), 'http://[::1]:3128'],
  ['socks5://[2001:db8::7]:1080', ok('socks5', '2001:db8::7', 1080), 'socks5://[2001:db8::7]:1080'],
  ['https://[2001:db8::7]', ok('https', '2001:db8::7', 443), 'https://[2001:db8::7]:443'],
  ['http://u:p@[::1]', ok('http', '::1', 80, { username: 'u', password: 'p' }), 'http://[::1]:80'],

  // IPv4 and IDN hosts.
  ['http://192.0.2.1:3128', ok('http', '192.0.2.1', 3128), 'http://192.0.2.1:3128'],
  ['http://bücher.example:3128', ok('http', 'xn--bcher-kva.example', 3128), 'http://xn--bcher-kva.example:3128'],
  ['socks5h://bücher.example', ok('socks5h', 'xn--bcher-kva.example', 1080), 'socks5h://xn--bcher-kva.example:1080'],

  // Userinfo is percent-decoded; the display never shows it.
  ['http://user:p%3Aa%20s%40s@proxy:8080', ok('http', 'proxy', 8080, { username: 'user', password: 'p:a s@s' }), 'http://proxy:8080'],
  ['http://DOMAIN%5Cuser:secret@proxy:8080', ok('http', 'proxy', 8080, { username: 'DOMAIN\\user', password: 'secret' }), 'http://proxy:8080'],
  ['http://us%40er@proxy:8080', ok('http', 'proxy', 8080, { username: 'us@er' }), 'http://proxy:8080'],
  ['socks5://alice:s%2Fe%23c%3Fr%25t@proxy:1080', ok('socks5', 'proxy', 1080, { username: 'alice', password: 's/e#c?r%t' }), 'socks5://proxy:1080'],
  ['http://j%C3%BCrgen:p%C3%A4ss@proxy:8080', ok('http', 'proxy', 8080, { username: 'jürgen', password: 'päss' }), 'http://proxy:8080'],
  // An "@" left unencoded in the password: the last "@" ends the userinfo (WHATWG and Go agree).
  ['http://user:p@ss@proxy:8080', ok('http', 'proxy', 8080, { username: 'user', password: 'p@ss' }), 'http://proxy:8080'],
  // A user with an empty password: no password at all.
  ['http://user:@proxy:8080', ok('http', 'proxy', 8080, { username: 'user' }), 'http://proxy:8080'],
  ['http://user@proxy:8080', ok('http', 'proxy', 8080, { username: 'user' }), 'http://proxy:8080'],

  // Surrounding whitespace (a pasted value) and a trailing slash.
  ['  http://proxy.corp:3128  ', ok('http', 'proxy.corp', 3128), 'http://proxy.corp:3128'],
  ['http://proxy.corp:3128/', ok('http', 'proxy.corp', 3128), 'http://proxy.corp:3128'],
  ['\thttp://proxy.corp:3128\n', ok('http', 'proxy.corp', 3128), 'http://proxy.corp:3128'],

  // Port bounds.
  ['http://proxy.corp:1', ok('http', 'proxy.corp', 1), 'http://proxy.corp:1'],
  ['http://proxy.corp:65535', ok('http', 'proxy.corp', 65535), 'http://proxy.corp:65535'],
];

describe('parseProxyUrl and displayProxy', () => {
  it.each(rows)('%j', (text, endpoint, display) => {
    const parsed = parseProxyUrl(text);
    expect(parsed).toEqual(endpoint);
    expect(displayProxy(parsed)).toBe(display);
  });
});

// Bad input: a usage error (exit 2) whose message says what is wrong (`mentions`) and never shows the password.
type ErrorRow = [text: string, mentions: RegExp];

const errorRows: ErrorRow[] = [
  ['', /empty/],
  ['   ', /empty/],
  ['ftp://proxy.corp:21', /"ftp"/],
  ['socks://proxy.corp:1080', /"socks"/],
  ['socks6://proxy.corp:1080', /"socks6"/],
  ['gopher://proxy.corp', /"gopher"/],
  ['http://', /not a valid URL|no host/],
  ['http://:3128', /not a valid URL|no host/],
  ['socks5://', /no host/],
  ['socks5://:1080', /not a valid URL|no host/],
  ['http://proxy.corp:0', /port/],
  ['http://proxy.corp:65536', /port|not a valid URL/],
  ['http://proxy.corp:99999', /port|not a valid URL/],
  ['http://proxy.corp:-1', /port|not a valid URL/],
  ['http://proxy.corp:31 28', /port|not a valid URL/],
  ['http://proxy.corp:abc', /port|not a valid URL/],
  ['proxy.corp:abc', /port|not a valid URL/],
  ['http://pro xy.corp:3128', /not a valid URL/],
  ['http://user:%zz@proxy.corp:3128', /percent-encoded/],
];

describe('parseProxyUrl rejects bad input with a usage error', () => {
  it.each(errorRows)('%j', (text, mentions) => {
    const error = thrown(() => parseProxyUrl(text));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(mentions);
  });

  it('names the origin it was given', () => {
    expect(thrown(() => parseProxyUrl('ftp://proxy.corp', 'HTTPS_PROXY')).message).toContain('HTTPS_PROXY');
    expect(thrown(() => parseProxyUrl('', '--proxy #2')).message).toContain('--proxy #2');
  });

  it('suggests socks5h:// for socks://', () => {
    expect(thrown(() => parseProxyUrl('socks://proxy.corp')).hint).toMatch(/socks5h/);
  });
});

// The password must not appear, whole or in part, in the message or the hint, whatever made the URL invalid.
// Each row: the URL and the password (as typed) inside it.
type SecretRow = [text: string, password: string];

const secretRows: SecretRow[] = [
  ['ftp://alice:Tr0ub4dor@proxy.corp:21', 'Tr0ub4dor'],
  ['socks://alice:Tr0ub4dor@proxy.corp', 'Tr0ub4dor'],
  ['http://alice:Tr0ub4dor@proxy.corp:0', 'Tr0ub4dor'],
  ['http://alice:Tr0ub4dor@proxy.corp:99999', 'Tr0ub4dor'],
  ['http://alice:Tr0ub4dor@proxy.corp:abc', 'Tr0ub4dor'],
  ['http://alice:Tr0ub4dor@:3128', 'Tr0ub4dor'],
  ['http://alice:Tr0ub4dor@', 'Tr0ub4dor'],
  ['socks5://alice:Tr0ub4dor@', 'Tr0ub4dor'],
  ['alice:Tr0ub4dor@proxy.corp:abc', 'Tr0ub4dor'],
  ['http://alice:Tr0ub4dor%zz@proxy.corp:3128', 'Tr0ub4dor'],
  ['http://alice:Tr0ub#4dor@proxy.corp:3128', 'Tr0ub#4dor'],
  ['http://alice:Tr0ub?4dor@proxy.corp:3128', 'Tr0ub?4dor'],
  // Unencoded "@" and "/" in a password are common (generated tokens), and break the URL apart.
  ['http://alice:Tr0ub@4dorXyz@proxy.corp:99999', 'Tr0ub@4dorXyz'],
  ['http://alice:Tr0ub/4dorXyz@proxy.corp:3128', 'Tr0ub/4dorXyz'],
  ['alice:Tr0ub/4dorXyz@proxy.corp:3128', 'Tr0ub/4dorXyz'],
];

describe('parse errors never show the password', () => {
  it.each(secretRows)('%j', (text, password) => {
    const error = thrown(() => parseProxyUrl(text));
    expect(error.kind).toBe('usage');
    const shown = `${error.message}\n${error.hint ?? ''}`;
    // Every piece of the password of 4 characters or more between URL delimiters.
    for (const piece of password.split(/[@/#?:]/).filter((p) => p.length >= 4)) {
      expect(shown).not.toContain(piece);
    }
    expect(shown).not.toContain(password);
  });
});
