import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { TrustAnchor, TrustStore } from '../../trust/trust-store.ts';
import type { CertificateJson, TlsJson } from '../types.ts';

export interface TlsProbeResult {
  json: TlsJson;
  /** The open TLS session (for /webapi/ping); undefined when the handshake failed. */
  socket?: TLSSocket;
}

/**
 * A TLS handshake over the tunnel to read the certificate the client actually receives, checked against burrow's
 * trust store (Node's roots, the system's, NODE_EXTRA_CA_CERTS, --ca: src/trust/) without refusing it, so that an
 * untrusted certificate is reported, not fatal: an unexpected issuer is how TLS inspection shows itself.
 */
export function probeTls(stream: Duplex, host: string, trust: TrustStore, signal: AbortSignal): Promise<TlsProbeResult> {
  return new Promise((resolve) => {
    const options: ConnectionOptions = {
      socket: stream as Socket,
      ...(isIP(host) ? {} : { servername: host }),
      secureContext: trust.secureContext,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    };
    const socket = tlsConnect(options);
    let settled = false;
    const finish = (result: TlsProbeResult) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      if (!result.socket) socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish({ json: { certificate: null, protocol: null, alpn: null, error: 'no TLS handshake in time' } });
    const onError = (error: NodeJS.ErrnoException) => finish({ json: { certificate: null, protocol: null, alpn: null, error: error.code ?? error.message } });
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate(true);
      let verifyError = socket.authorized ? null : String(socket.authorizationError ?? 'not verified');
      if (!verifyError && peer && Object.keys(peer).length > 0) {
        const identity = checkServerIdentity(host, peer);
        if (identity) verifyError = (identity as NodeJS.ErrnoException).code ?? identity.message;
      }
      const certificate = peer && Object.keys(peer).length > 0 ? describeCertificate(peer, verifyError, verifyError === null ? trust.anchorOf(peer) : undefined) : null;
      // Keep the socket usable for the next probe; the caller destroys it.
      socket.on('error', () => {});
      finish({
        json: { certificate, protocol: socket.getProtocol() ?? null, alpn: socket.alpnProtocol || null, error: null },
        socket,
      });
    });
  });
}

function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C'];
  const record = name as unknown as Record<string, string | string[] | undefined>;
  return order
    .filter((key) => record[key] !== undefined)
    .map((key) => `${key}=${([] as string[]).concat(record[key] as string | string[]).join('+')}`)
    .join(', ');
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function describeCertificate(peer: PeerCertificate, verifyError: string | null, anchor?: TrustAnchor): CertificateJson {
  const issuer = peer.issuer as unknown as Record<string, string | string[] | undefined> | undefined;
  return {
    subject: distinguishedName(peer.subject),
    issuer: distinguishedName(peer.issuer),
    issuer_name: firstOf(issuer?.CN) ?? firstOf(issuer?.O) ?? '',
    valid_to: peer.valid_to ? new Date(peer.valid_to).toISOString() : '',
    fingerprint256: peer.fingerprint256 ?? '',
    verified: verifyError === null,
    verify_error: verifyError,
    trusted_by: anchor ?? null,
  };
}
