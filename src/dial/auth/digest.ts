import { createHash, randomBytes } from 'node:crypto';
import type { Challenge } from './challenge.ts';

// Digest access authentication (RFC 7616) for CONNECT: MD5, MD5-sess, SHA-256 and SHA-256-sess, with qop=auth or
// without qop (RFC 2069 style). The request-target of CONNECT is the authority "host:port", and so is digest-uri.

export const DIGEST_ALGORITHMS: Record<string, string> = { md5: 'md5', 'md5-sess': 'md5', 'sha-256': 'sha256', 'sha-256-sess': 'sha256' };

export function digestAuthorization(
  challenge: Challenge,
  credentials: { username: string; password: string },
  method: string,
  uri: string,
  nonceCount = 1,
  cnonce = randomBytes(12).toString('hex'),
): string {
  const params = challenge.params;
  const algorithmName = params.algorithm ?? 'MD5';
  const hashName = DIGEST_ALGORITHMS[algorithmName.toLowerCase()] ?? 'md5';
  const h = (text: string) => createHash(hashName).update(text, 'utf8').digest('hex');
  const realm = params.realm ?? '';
  const nonce = params.nonce ?? '';
  let ha1 = h(`${credentials.username}:${realm}:${credentials.password}`);
  if (algorithmName.toLowerCase().endsWith('-sess')) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const useQop = params.qop !== undefined;
  const nc = nonceCount.toString(16).padStart(8, '0');
  const response = useQop ? h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : h(`${ha1}:${nonce}:${ha2}`);
  const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;
  const fields = [
    `username=${quote(credentials.username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${algorithmName}`,
    `response=${quote(response)}`,
  ];
  if (params.opaque !== undefined) fields.push(`opaque=${quote(params.opaque)}`);
  if (useQop) fields.push('qop=auth', `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${fields.join(', ')}`;
}
