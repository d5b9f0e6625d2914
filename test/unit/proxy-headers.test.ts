import { describe, expect, it } from 'vitest';
import { buildConnectRequest } from '../../src/dial/http-connect.ts';
import { parseConfig } from '../../src/route/config.ts';
import { describeProxyHeaders, looksLikeCredential, mergeProxyHeaders, parseProxyHeader } from '../../src/route/proxy-headers.ts';
import { maskSecrets } from '../../src/secrets.ts';

describe('--proxy-header "Name: value"', () => {
  it.each([
    ['User-Agent: Mozilla/5.0 (X11; Linux x86_64)', { name: 'User-Agent', value: 'Mozilla/5.0 (X11; Linux x86_64)' }],
    ['X-Corp-Device:abc123', { name: 'X-Corp-Device', value: 'abc123' }],
    ['  X-Empty:  ', { name: 'X-Empty', value: '' }],
    ['X-Tab: a\tb', { name: 'X-Tab', value: 'a\tb' }],
    ['X-Colon: a:b:c', { name: 'X-Colon', value: 'a:b:c' }],
  ])('%j', (text, header) => {
    expect(parseProxyHeader(text, '--proxy-header')).toEqual(header);
  });

  it.each([
    ['User-Agent: x\r\nX-Injected: 1', /line break/],
    ['User-Agent: x\nGET / HTTP/1.1', /line break/],
    ['User-Agent: x\u0000', /control character/],
    ['Bad Name: x', /not an HTTP token/],
    ['NoColon', /not "Name: value"/],
    [': value', /not "Name: value"/],
    ['Host: evil.example', /burrow writes Host itself/],
    ['Proxy-Authorization: Basic eA==', /burrow writes Proxy-Authorization itself/],
    ['Content-Length: 5', /burrow writes/],
  ])('refuses %j (exit 2)', (text, message) => {
    expect(() => parseProxyHeader(text, '--proxy-header')).toThrow(message);
    try {
      parseProxyHeader(text, '--proxy-header');
    } catch (error) {
      expect((error as { kind: string }).kind).toBe('usage');
    }
  });

  it.each([
    ['X-Api-Key', 'k', true],
    ['X-Auth-Token', 't', true],
    ['Cookie', 'a=b', true],
    ['X-Forward', 'Bearer abc', true],
    ['User-Agent', 'Mozilla/5.0', false],
    ['X-Corp-Device', 'laptop-42', false],
  ])('%s: %s looks like a credential: %s', (name, value, secret) => {
    expect(looksLikeCredential(name, value)).toBe(secret);
  });

  it('credential-like values never show: described as ***, and masked in any log line', () => {
    const headers = [parseProxyHeader('User-Agent: Mozilla/5.0', 'x'), parseProxyHeader('X-Api-Key: s3cr3t-k3y-value', 'x')];
    expect(describeProxyHeaders(headers)).toBe('User-Agent: Mozilla/5.0, X-Api-Key: ***');
    expect(maskSecrets('sent X-Api-Key: s3cr3t-k3y-value')).toBe('sent X-Api-Key: ***');
  });

  it('the command line replaces a config header of the same name', () => {
    const merged = mergeProxyHeaders([{ name: 'User-Agent', value: 'config' }, { name: 'X-A', value: '1' }], [{ name: 'user-agent', value: 'flag' }]);
    expect(merged).toEqual([{ name: 'user-agent', value: 'flag' }, { name: 'X-A', value: '1' }]);
  });
});

describe('CONNECT with extra headers', () => {
  it('are sent; a User-Agent among them replaces burrow\'s', () => {
    const request = buildConnectRequest({ host: 'git.corp', port: 22 }, 'Basic eDp5', [{ name: 'User-Agent', value: 'Mozilla/5.0' }, { name: 'X-Corp', value: '1' }]);
    expect(request).toBe('CONNECT git.corp:22 HTTP/1.1\r\nHost: git.corp:22\r\nProxy-Connection: Keep-Alive\r\nUser-Agent: Mozilla/5.0\r\nX-Corp: 1\r\nProxy-Authorization: Basic eDp5\r\n\r\n');
    expect(buildConnectRequest({ host: 'git.corp', port: 22 }, undefined, [{ name: 'X-Corp', value: '1' }])).toMatch(/^CONNECT git\.corp:22 HTTP\/1\.1\r\nHost: git\.corp:22\r\nUser-Agent: burrow\/[^\r]+\r\nProxy-Connection: Keep-Alive\r\nX-Corp: 1\r\n\r\n$/);
  });
});

describe('headers: in the config file', () => {
  it('maps names to values', () => {
    expect(parseConfig('headers:\n  User-Agent: "Mozilla/5.0 (Windows NT 10.0)"\n  X-Corp: 42\n', 'c.yaml').headers).toEqual([
      { name: 'User-Agent', value: 'Mozilla/5.0 (Windows NT 10.0)' },
      { name: 'X-Corp', value: '42' },
    ]);
  });
  it.each([
    ['headers:\n  User-Agent: "a\\r\\nX-Injected: 1"\n', /c\.yaml:2: headers:: the value of User-Agent contains a line break/],
    ['headers:\n  Host: x\n', /c\.yaml:2: headers:: burrow writes Host itself/],
    ['headers: [a, b]\n', /c\.yaml:1: headers must map header names to values/],
  ])('refuses %j with FILE:LINE', (text, message) => {
    expect(() => parseConfig(text, 'c.yaml')).toThrow(message);
  });
});
