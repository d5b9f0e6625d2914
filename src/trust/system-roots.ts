import { readdirSync, readFileSync, readlinkSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';

// Where the machine keeps the CA certificates it trusts, read the way OpenSSL and Go (and so curl, git and tsh) read
// them. Linux: the first distribution bundle that exists (Go's crypto/x509 root_linux.go list), SSL_CERT_FILE
// instead of that list and SSL_CERT_DIR (colon-separated) for directories, as Go and OpenSSL honour them. Unlike Go,
// the default directories are only read when no bundle exists: every distribution's update tool writes each
// certificate of the directory into the bundle too, and reading ~150 files costs ~30 ms of an ssh session's start.
// macOS and Windows: the OS store through tls.getCACertificates('system') on the Node versions that have it
// (>= 22.15 / 23.5); Node 20 cannot read the Keychain or the Windows store, so there only SSL_CERT_FILE,
// SSL_CERT_DIR and NODE_EXTRA_CA_CERTS reach burrow.

type Env = Readonly<Record<string, string | undefined>>;

export const LINUX_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Gentoo, Arch
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL 6
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/tls/cacert.pem', // OpenELEC
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // CentOS, RHEL 7
  '/etc/ssl/cert.pem', // Alpine
];
export const LINUX_DIRECTORIES = ['/etc/ssl/certs', '/etc/pki/tls/certs'];

export interface SystemRoots {
  /** PEM certificates, one per element. */
  pems: string[];
  /** Where they came from (files, directories, "the OS store"), for doctor and -v. */
  sources: string[];
}

type GetCaCertificates = (kind: 'system') => string[];

export function readSystemRoots(env: Env, platform: NodeJS.Platform = process.platform): SystemRoots {
  const pems: string[] = [];
  const sources: string[] = [];
  const bundles = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : platform === 'linux' ? LINUX_BUNDLES : [];
  for (const file of bundles) {
    const found = readPems(file);
    if (!found) continue;
    pems.push(...found);
    sources.push(file);
    break;
  }
  const directories = env.SSL_CERT_DIR ? env.SSL_CERT_DIR.split(':').filter(Boolean) : platform === 'linux' && sources.length === 0 ? LINUX_DIRECTORIES : [];
  for (const directory of directories) {
    const found = readDirectory(directory);
    if (found.length === 0) continue;
    pems.push(...found);
    sources.push(directory);
  }
  // Node >= 22.15 reads the OS store itself (Keychain, Windows store); on Linux it would only repeat the bundle.
  const getCaCertificates = (tls as unknown as { getCACertificates?: GetCaCertificates }).getCACertificates;
  if (platform !== 'linux' && typeof getCaCertificates === 'function') {
    const fromOs = getCaCertificates('system');
    if (fromOs.length > 0) {
      pems.push(...fromOs);
      sources.push('the OS certificate store');
    }
  }
  return { pems, sources };
}

/** The PEM certificates in a file; undefined when it cannot be read. */
export function readPems(file: string): string[] | undefined {
  try {
    return splitPems(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function splitPems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

// Like Go: every regular file or symlink in the directory, except symlinks to another name in the same directory
// (OpenSSL's hash links, which repeat a certificate already there).
function readDirectory(directory: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch {
    return [];
  }
  const pems: string[] = [];
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isSymbolicLink()) {
      try {
        if (!readlinkSync(path).includes('/')) continue;
      } catch {
        continue;
      }
    } else if (!entry.isFile()) continue;
    pems.push(...(readPems(path) ?? []));
  }
  return pems;
}
