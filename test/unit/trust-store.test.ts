import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { rootCertificates, type DetailedPeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { readSystemRoots, splitPems } from '../../src/trust/system-roots.ts';
import { describeOrigins, trustStore } from '../../src/trust/trust-store.ts';
import { makeTestCa } from '../helpers/tls-proxy.ts';

const ca = makeTestCa('burrow unit CA');
const other = makeTestCa('burrow other unit CA');
const work = mkdtempSync(join(tmpdir(), 'burrow-trust-'));
const der = (pem: string) => Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64');
const peerChain = (...pems: string[]): DetailedPeerCertificate => {
  // Leaf first; the top one is its own issuer, as Node reports a verified root.
  const certs = pems.map((pem, i) => ({ raw: der(pem), subject: { CN: `cert ${i}` } }) as unknown as DetailedPeerCertificate);
  certs.forEach((c, i) => (c.issuerCertificate = certs[i + 1] ?? c));
  return certs[0]!;
};

describe('system roots', () => {
  it('SSL_CERT_FILE replaces the distribution bundles; a file without certificates is skipped', () => {
    const file = join(work, 'bundle.pem');
    writeFileSync(file, `junk\n${ca.cert}\n# comment\n${other.cert}`);
    expect(readSystemRoots({ SSL_CERT_FILE: file }, 'linux')).toEqual({ pems: splitPems(`${ca.cert}${other.cert}`), sources: [file] });
    expect(readSystemRoots({ SSL_CERT_FILE: join(work, 'missing.pem'), SSL_CERT_DIR: join(work, 'nothing') }, 'linux')).toEqual({ pems: [], sources: [] });
  });

  it('SSL_CERT_DIR: every file and outside symlink, not the same-directory hash links (one certificate, read once)', () => {
    const dir = join(work, 'certs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'corp.pem'), ca.cert);
    symlinkSync('corp.pem', join(dir, '1a2b3c4d.0'));
    symlinkSync(join(other.dir, 'server.pem'), join(dir, 'elsewhere.pem'));
    const second = join(work, 'second');
    mkdirSync(second);
    const roots = readSystemRoots({ SSL_CERT_FILE: join(work, 'missing.pem'), SSL_CERT_DIR: `${dir}::${second}` }, 'linux');
    expect(roots.pems).toHaveLength(2);
    expect(roots.sources).toEqual([dir]);
  });

  const hasOsStoreApi = typeof (tls as unknown as { getCACertificates?: unknown }).getCACertificates === 'function';
  it.skipIf(hasOsStoreApi)('outside Linux, Node 20 reads only the variables (no OS store API)', () => {
    expect(readSystemRoots({}, 'darwin')).toEqual({ pems: [], sources: [] });
  });
});

describe('trust store', () => {
  it('names the part of the store a verified chain ends in, from the top down', () => {
    const file = join(work, 'system.pem');
    writeFileSync(file, `${ca.cert}${rootCertificates[0]}`);
    const store = trustStore({ SSL_CERT_FILE: file }, readFileSync(other.caFile, 'utf8'));
    expect(store.anchorOf(peerChain('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', ca.cert))).toEqual({ origins: ['system'], name: 'cert 1' });
    expect(store.anchorOf(peerChain(rootCertificates[0]!))).toEqual({ origins: ['bundled', 'system'], name: 'cert 0' });
    expect(store.anchorOf(peerChain(readFileSync(other.caFile, 'utf8')))).toEqual({ origins: ['added'], name: 'cert 0' });
    expect(store.anchorOf(peerChain(makeTestCa('stranger').cert))).toBeUndefined();
  });

  it('is built once per setting', () => {
    const env = { SSL_CERT_FILE: join(work, 'none.pem') };
    expect(trustStore(env)).toBe(trustStore({ ...env }));
    expect(trustStore(env, ca.cert)).not.toBe(trustStore(env));
  });

  it('describes origins for people', () => {
    expect(describeOrigins(['bundled', 'system'])).toBe("Node's bundled roots and the system store");
  });
});

