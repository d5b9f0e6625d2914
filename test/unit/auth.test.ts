import { describe, expect, it } from 'vitest';
import { parseChallenges, supportsDigest } from '../../src/dial/auth/challenge.ts';
import { digestAuthorization } from '../../src/dial/auth/digest.ts';
import { normalizeType2, ntlmAuthenticate, splitDomainUser } from '../../src/dial/auth/ntlm.ts';

describe('parseChallenges', () => {
  it.each([
    [['Basic realm="corp"'], [{ scheme: 'Basic', params: { realm: 'corp' } }]],
    [['NTLM'], [{ scheme: 'NTLM', params: {} }]],
    [['NTLM TlRMTVNTUAACAAAA'], [{ scheme: 'NTLM', token: 'TlRMTVNTUAACAAAA', params: {} }]],
    [['Negotiate YIIFyw=='], [{ scheme: 'Negotiate', token: 'YIIFyw==', params: {} }]],
    [['Negotiate', 'NTLM', 'Basic realm="Squid proxy"'], [{ scheme: 'Negotiate', params: {} }, { scheme: 'NTLM', params: {} }, { scheme: 'Basic', params: { realm: 'Squid proxy' } }]],
    [['Negotiate, NTLM, Basic realm="a, b"'], [{ scheme: 'Negotiate', params: {} }, { scheme: 'NTLM', params: {} }, { scheme: 'Basic', params: { realm: 'a, b' } }]],
    [
      ['Digest realm="squid", nonce="abc123", qop="auth", stale=false, algorithm=MD5, Basic realm="x"'],
      [{ scheme: 'Digest', params: { realm: 'squid', nonce: 'abc123', qop: 'auth', stale: 'false', algorithm: 'MD5' } }, { scheme: 'Basic', params: { realm: 'x' } }],
    ],
    [['Basic realm="with \\"quotes\\""'], [{ scheme: 'Basic', params: { realm: 'with "quotes"' } }]],
    [['basic REALM=corp'], [{ scheme: 'basic', params: { realm: 'corp' } }]],
    [[''], []],
    [['   ,  '], []],
  ])('%j', (headers, expected) => {
    expect(parseChallenges(headers)).toEqual(expected);
  });
});

describe('supportsDigest', () => {
  it.each([
    ['Digest realm="r", nonce="n", qop="auth"', true],
    ['Digest realm="r", nonce="n", qop="auth,auth-int"', true],
    ['Digest realm="r", nonce="n"', true],
    ['Digest realm="r", nonce="n", algorithm=SHA-256', true],
    ['Digest realm="r", nonce="n", algorithm=MD5-sess', true],
    ['Digest realm="r", nonce="n", qop="auth-int"', false],
    ['Digest realm="r", nonce="n", algorithm=SHA-512-256', false],
    ['Digest realm="r"', false],
  ])('%s -> %s', (header, expected) => {
    expect(supportsDigest(parseChallenges([header])[0]!)).toBe(expected);
  });
});

describe('digestAuthorization', () => {
  it('matches the RFC 2617 §3.5 example', () => {
    const challenge = parseChallenges(['Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'])[0]!;
    // RFC 2617 lists qop="auth,auth-int"; burrow answers with auth.
    const header = digestAuthorization(challenge, { username: 'Mufasa', password: 'Circle Of Life' }, 'GET', '/dir/index.html', 1, '0a4f113b');
    expect(header).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(header).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
    expect(header).toContain('nc=00000001');
    expect(header).toMatch(/^Digest username="Mufasa", realm="testrealm@host.com"/);
  });

  it('uses the authority form as digest-uri for CONNECT and answers without qop in the RFC 2069 way', () => {
    const challenge = parseChallenges(['Digest realm="r", nonce="n"'])[0]!;
    const header = digestAuthorization(challenge, { username: 'u', password: 'p' }, 'CONNECT', 'host:22');
    expect(header).toContain('uri="host:22"');
    expect(header).not.toContain('qop=');
  });
});

describe('splitDomainUser', () => {
  it.each([
    ['CORP\\alice', { domain: 'CORP', user: 'alice' }],
    ['alice', { domain: '', user: 'alice' }],
    ['alice@corp.example', { domain: '', user: 'alice@corp.example' }],
  ])('%s', (input, expected) => {
    expect(splitDomainUser(input)).toEqual(expected);
  });
});

describe('normalizeType2', () => {
  it('repairs squid ntlm_fake_auth\'s challenge (garbage name offset, no target info) and keeps the challenge', () => {
    const squid = Buffer.from('TlRMTVNTUAACAAAACQAJAK6qqqoGgggANXc9NbaiZQMAAAAAAAA6AFdPUktHUk9VUA==', 'base64');
    const fixed = normalizeType2(squid);
    expect(fixed.subarray(24, 32).equals(squid.subarray(24, 32))).toBe(true);
    expect(fixed.subarray(48, 57).toString('latin1')).toBe('WORKGROUP');
    expect(fixed.readUInt32LE(20) & 0x00800000).toBeTruthy();
    const type3 = ntlmAuthenticate(squid.toString('base64'), { username: 'CORP\\alice', password: 'pw' }, 'http://proxy:3128');
    const decoded = Buffer.from(type3.replace(/^NTLM /, ''), 'base64');
    expect(decoded.readUInt32LE(8)).toBe(3);
    const userLength = decoded.readUInt16LE(36);
    const userOffset = decoded.readUInt32LE(40);
    expect(decoded.subarray(userOffset, userOffset + userLength).toString('latin1')).toBe('alice');
  });

  it('rejects what is not a type-2 message with a BurrowError naming the proxy', () => {
    expect(() => ntlmAuthenticate(Buffer.from('hello').toString('base64'), { username: 'a', password: 'b' }, 'http://proxy:3128')).toThrow(/NTLM with the proxy http:\/\/proxy:3128 failed/);
  });
});
