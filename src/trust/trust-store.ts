import { createSecureContext, rootCertificates, type DetailedPeerCertificate, type SecureContext } from 'node:tls';
import { readPems, readSystemRoots, splitPems } from './system-roots.ts';

// The one set of CAs every TLS connection burrow makes is checked against (https:// proxies, PAC URLs, doctor's
// certificate checks): Node's bundled Mozilla roots, the file in NODE_EXTRA_CA_CERTS, the system's store
// (system-roots.ts) and what the user added (--proxy-ca, doctor's --ca). Duplicates are removed (most of a
// distribution bundle repeats Node's list) and the secure context is built once per process, only by a run that
// opens TLS (nothing here runs at import).
//
// Node's public `ca:` option replaces the default store rather than adding to it, and so must be given every
// bundled root again; on Node 20 that costs ~35-60 ms (each certificate also goes through SSL_CTX_add_client_CA,
// quadratic). Instead a default context (Node's roots, already parsed) gets only the certificates it lacks, through
// the native context's addCACert — what `ca:` itself calls, per certificate, on a store owned by that one context
// (the process-wide default store is not touched) — ~4 ms for Debian's ~20 extra roots. A Node without that method
// gets the public `ca:` route.

type Env = Readonly<Record<string, string | undefined>>;

/** Which part of the store a CA certificate belongs to. */
export type CaOrigin = 'bundled' | 'system' | 'NODE_EXTRA_CA_CERTS' | 'added';

export interface TrustAnchor {
  /** Every part of the store that holds this CA (Node's bundle and the system's often both do). */
  origins: CaOrigin[];
  /** The CA's subject common name (or organisation). */
  name: string;
}

export interface TrustStore {
  secureContext: SecureContext;
  /** Where the system part came from (files, directories, the OS store). */
  systemSources: string[];
  /** The CA of this store that a verified chain ends in; undefined when none does. */
  anchorOf(peer: DetailedPeerCertificate): TrustAnchor | undefined;
}

const built = new Map<string, TrustStore>();

/** The trust store for this environment plus `added` (PEM), built on first use and kept for the process. */
export function trustStore(env: Env, added?: string): TrustStore {
  const key = JSON.stringify([env.SSL_CERT_FILE, env.SSL_CERT_DIR, env.NODE_EXTRA_CA_CERTS, added ?? '']);
  let store = built.get(key);
  if (!store) {
    store = buildTrustStore(env, added);
    built.set(key, store);
  }
  return store;
}

function buildTrustStore(env: Env, added: string | undefined): TrustStore {
  const origins = new Map<string, CaOrigin[]>();
  const pems: string[] = [];
  const add = (pem: string, origin: CaOrigin) => {
    const der = derBase64(pem);
    const seen = origins.get(der);
    if (seen) {
      if (!seen.includes(origin)) seen.push(origin);
      return;
    }
    origins.set(der, [origin]);
    pems.push(pem);
  };
  for (const pem of rootCertificates) add(pem, 'bundled');
  if (env.NODE_EXTRA_CA_CERTS) for (const pem of readPems(env.NODE_EXTRA_CA_CERTS) ?? []) add(pem, 'NODE_EXTRA_CA_CERTS');
  const system = readSystemRoots(env);
  for (const pem of system.pems) add(pem, 'system');
  if (added) for (const pem of splitPems(added)) add(pem, 'added');
  // A context's own store starts from Node's bundled roots only (not NODE_EXTRA_CA_CERTS, which Node keeps in the
  // process-wide store): everything else is added.
  const missing = pems.filter((pem) => !origins.get(derBase64(pem))!.includes('bundled'));
  return {
    secureContext: secureContextWith(pems, missing),
    systemSources: system.sources,
    anchorOf(peer) {
      // From the top of the chain down: the root OpenSSL verified against, or the first certificate the store holds.
      for (const certificate of chainTopFirst(peer)) {
        const found = origins.get(certificate.raw.toString('base64'));
        if (found) return { origins: [...found], name: commonName(certificate) };
      }
      return undefined;
    },
  };
}

type NativeContext = { addCACert?: (pem: string) => void };

function secureContextWith(all: string[], missingFromDefault: string[]): SecureContext {
  const context = createSecureContext();
  const native = (context as unknown as { context?: NativeContext }).context;
  if (typeof native?.addCACert !== 'function') return createSecureContext({ ca: all });
  for (const pem of missingFromDefault) native.addCACert(pem);
  return context;
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/** The certificate's DER in base64, as Node gives a peer certificate's `raw`: the key that finds it in the store. */
function derBase64(pem: string): string {
  const start = pem.indexOf(BEGIN);
  const end = pem.lastIndexOf(END);
  return pem.slice(start < 0 ? 0 : start + BEGIN.length, end < 0 ? pem.length : end).replace(/\s+/g, '');
}

function chainTopFirst(peer: DetailedPeerCertificate): DetailedPeerCertificate[] {
  const chain: DetailedPeerCertificate[] = [];
  for (let at: DetailedPeerCertificate | undefined = peer; at?.raw && !chain.includes(at); at = at.issuerCertificate) chain.push(at);
  return chain.reverse();
}

function commonName(certificate: DetailedPeerCertificate): string {
  const subject = certificate.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  const pick = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  return pick(subject?.CN) ?? pick(subject?.O) ?? '';
}

/** "the system store", "Node's bundled roots and the system store": for doctor's report. */
export function describeOrigins(origins: readonly CaOrigin[]): string {
  const names: Record<CaOrigin, string> = {
    bundled: "Node's bundled roots",
    system: 'the system store',
    NODE_EXTRA_CA_CERTS: 'NODE_EXTRA_CA_CERTS',
    added: '--ca/--proxy-ca',
  };
  return origins.map((origin) => names[origin]).join(' and ');
}
