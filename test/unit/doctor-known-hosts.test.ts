import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkKnownHosts, fingerprint, keyTypeOf, knownHostsName, knownKeyTypes, parseKnownHosts, patternsMatch } from '../../src/doctor/known-hosts.ts';
import { hostKeyAlgorithms } from '../../src/doctor/probes/ssh.ts';

/** A fake key blob of the given type: string type, then random bytes (enough for matching and fingerprints). */
function blob(type: string): Buffer {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, randomBytes(32)]);
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const ED = blob('ssh-ed25519');
const ED_OTHER = blob('ssh-ed25519');
const RSA = blob('ssh-rsa');
const line = (patterns: string, key: Buffer, marker = '') => `${marker ? `${marker} ` : ''}${patterns} ${keyTypeOf(key)} ${key.toString('base64')} comment`;

describe('known_hosts names and patterns (OpenSSH rules)', () => {
  it.each([
    ['jump.example.org', 22, 'jump.example.org'],
    ['jump.example.org', 2222, '[jump.example.org]:2222'],
    ['::1', 22, '::1'],
    ['::1', 3022, '[::1]:3022'],
  ])('looks up %s port %i as %s', (host, port, name) => {
    expect(knownHostsName(host, port)).toBe(name);
  });

  it.each([
    ['jump.example.org', 'jump.example.org', true],
    ['JUMP.example.org', 'jump.example.org', true],
    ['other.org,jump.example.org', 'jump.example.org', true],
    ['*.example.org', 'jump.example.org', true],
    ['jump.example.or?', 'jump.example.org', true],
    ['*.example.org,!jump.example.org', 'jump.example.org', false],
    ['!jump.example.org,*', 'jump.example.org', false],
    ['jump.example.org', '[jump.example.org]:2222', false],
    ['[jump.example.org]:2222', '[jump.example.org]:2222', true],
    ['example.org', 'jump.example.org', false],
    ['jump.example.org.', 'jump.example.org', false],
  ])('pattern %s vs %s: %s', (patterns, name, expected) => {
    expect(patternsMatch(patterns, name)).toBe(expected);
  });

  it('matches hashed entries (HashKnownHosts yes) and only for the hashed name', () => {
    const pattern = hashed('[jump.example.org]:2222');
    expect(patternsMatch(pattern, '[jump.example.org]:2222')).toBe(true);
    expect(patternsMatch(pattern, 'jump.example.org')).toBe(false);
  });
});

describe('checkKnownHosts', () => {
  const file = '/home/u/.ssh/known_hosts';
  const text = [
    '# comment',
    '',
    line('jump.example.org,192.0.2.1', ED),
    line('[jump.example.org]:2222', RSA),
    line(hashed('hashed.example.org'), ED),
    line('*.wild.example.org', ED),
    line('revoked.example.org', ED_OTHER, '@revoked'),
    line('*.example.org', ED_OTHER, '@cert-authority'),
    'garbage-line-without-key',
  ].join('\n');
  const entries = parseKnownHosts(text);

  it('parses every key line with its 1-based line number and marker', () => {
    expect(entries.map((e) => [e.line, e.marker, e.keyType])).toEqual([
      [3, null, 'ssh-ed25519'],
      [4, null, 'ssh-rsa'],
      [5, null, 'ssh-ed25519'],
      [6, null, 'ssh-ed25519'],
      [7, 'revoked', 'ssh-ed25519'],
      [8, 'cert-authority', 'ssh-ed25519'],
    ]);
  });

  it.each([
    ['the same key', 'jump.example.org', 22, ED, 'match', 3],
    ['a different key of the same type', 'jump.example.org', 22, ED_OTHER, 'mismatch', 3],
    ['a key of a type not on file', '[jump.example.org]', 2222, ED, 'other_type', 4],
    ['the RSA key on a non-22 port', 'jump.example.org', 2222, RSA, 'match', 4],
    ['a hashed entry', 'hashed.example.org', 22, ED, 'match', 5],
    ['a hashed entry with another key', 'hashed.example.org', 22, ED_OTHER, 'mismatch', 5],
    ['a wildcard entry', 'a.wild.example.org', 22, ED, 'match', 6],
    ['a host not on file (a CA line does not count)', 'new.example.org', 22, ED_OTHER, 'unknown', null],
    ['a port not on file', 'jump.example.org', 2200, ED, 'unknown', null],
    ['a revoked key', 'revoked.example.org', 22, ED_OTHER, 'revoked', 7],
  ])('%s', (_name, host, port, key, status, lineNumber) => {
    const result = checkKnownHosts(entries, file, host, port, { type: keyTypeOf(key), blob: key });
    expect(result.status).toBe(status);
    expect(result.line).toBe(lineNumber);
    expect(result.file).toBe(file);
  });

  it('lists the known fingerprints on a mismatch', () => {
    const result = checkKnownHosts(entries, file, 'jump.example.org', 22, { type: 'ssh-ed25519', blob: ED_OTHER });
    expect(result.known_fingerprints).toEqual([fingerprint(ED)]);
  });

  it('orders host-key algorithms with the known types first, as OpenSSH does', () => {
    expect(knownKeyTypes(entries, 'jump.example.org', 2222)).toEqual(['ssh-rsa']);
    const algorithms = hostKeyAlgorithms(['ssh-rsa']);
    expect(algorithms.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(algorithms).toContain('ssh-ed25519');
    expect(new Set(algorithms).size).toBe(algorithms.length);
  });

  it('fingerprints like ssh-keygen -l (SHA256, base64 without padding)', () => {
    expect(fingerprint(Buffer.from('abc'))).toBe('SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
  });
});
