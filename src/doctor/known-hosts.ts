import { createHash, createHmac } from 'node:crypto';
import type { KnownHostsJson } from './types.ts';

// OpenSSH's known_hosts, read the way ssh reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): one key per line,
// "[marker] patterns keytype base64 [comment]"; patterns are comma-separated, may use * and ?, may be negated with !,
// name "[host]:port" for ports other than 22, or be hashed as |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
// Pure functions: the file's text in, a verdict out.

export interface KnownHostsEntry {
  line: number;
  marker: 'cert-authority' | 'revoked' | null;
  patterns: string;
  keyType: string;
  keyBase64: string;
}

export interface HostKey {
  type: string;
  /** The key blob as it appears base64-encoded in known_hosts. */
  blob: Buffer;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'] = null;
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift()!.slice(1);
      if (name !== 'cert-authority' && name !== 'revoked') return; // unknown marker: ssh ignores the line
      marker = name;
    }
    const [patterns, keyType, keyBase64] = fields;
    if (!patterns || !keyType || !keyBase64) return;
    entries.push({ line: index + 1, marker, patterns, keyType, keyBase64 });
  });
  return entries;
}

/** The name ssh looks up: "host" on port 22, "[host]:port" otherwise (IPv6 literals without extra brackets). */
export function knownHostsName(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return port === 22 ? bare : `[${bare}]:${port}`;
}

function wildcardMatch(pattern: string, text: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(text);
}

function hashedMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('|'); // ["", "1", salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const expected = parts[3]!;
  return createHmac('sha1', salt).update(name).digest('base64') === expected;
}

/** Whether a comma-separated pattern list matches `name`: a negated match wins over any positive one. */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let positive = false;
  for (const raw of patterns.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (pattern === '') continue;
    if (wildcardMatch(pattern, name)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  if (length > blob.length - 4 || length > 64) return 'unknown';
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** "SHA256:…" as ssh-keygen -l prints it (base64 without padding). */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key types known_hosts holds for host:port (for ordering the host-key algorithms the way ssh does). */
export function knownKeyTypes(entries: KnownHostsEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = new Set<string>();
  for (const entry of entries) {
    if (entry.marker === null && patternsMatch(entry.patterns, name)) types.add(entry.keyType);
  }
  return [...types];
}

/** Compares a host key with known_hosts, as ssh would when connecting to host:port. */
export function checkKnownHosts(entries: KnownHostsEntry[], file: string, host: string, port: number, key: HostKey): KnownHostsJson {
  const name = knownHostsName(host, port);
  const keyBase64 = key.blob.toString('base64');
  const forHost = entries.filter((entry) => patternsMatch(entry.patterns, name));
  const revoked = forHost.find((entry) => entry.marker === 'revoked' && entry.keyBase64 === keyBase64);
  if (revoked) return { status: 'revoked', file, line: revoked.line, known_fingerprints: [] };
  const plain = forHost.filter((entry) => entry.marker === null);
  const match = plain.find((entry) => entry.keyType === key.type && entry.keyBase64 === keyBase64);
  if (match) return { status: 'match', file, line: match.line, known_fingerprints: [] };
  const sameType = plain.filter((entry) => entry.keyType === key.type);
  if (sameType.length > 0) {
    return { status: 'mismatch', file, line: sameType[0]!.line, known_fingerprints: sameType.map((entry) => fingerprintOf(entry.keyBase64)) };
  }
  if (plain.length > 0) return { status: 'other_type', file, line: plain[0]!.line, known_fingerprints: [] };
  return { status: 'unknown', file, line: null, known_fingerprints: [] };
}

function fingerprintOf(base64: string): string {
  return fingerprint(Buffer.from(base64, 'base64'));
}

/** ssh2's host-key algorithm names for a known_hosts key type (an RSA key is offered under the SHA-2 names). */
export function algorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}
