import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { BurrowError } from '../errors.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import { trustStore } from '../trust/trust-store.ts';
import type { DialAttempt } from './context.ts';

// TLS to an https:// proxy (not to the target): verified against burrow's trust store (Node's roots, the system's,
// NODE_EXTRA_CA_CERTS, plus --proxy-ca: src/trust/), with SNI, and ALPN http/1.1 so a proxy that also speaks h2
// answers CONNECT in HTTP/1.1.
export function startProxyTls(stream: Duplex, proxy: ProxyEndpoint, attempt: DialAttempt): Promise<TLSSocket> {
  const label = displayProxy(proxy);
  attempt.phase = `TLS handshake with proxy ${label}`;
  attempt.stage = 'proxy-tls';
  const tlsOptions = attempt.options.tls ?? {};
  return new Promise((resolve, reject) => {
    const connectOptions: ConnectionOptions = {
      socket: stream as Socket,
      servername: isIP(proxy.host) ? undefined : proxy.host,
      // --proxy-insecure checks nothing, so it does not pay for reading and parsing the store.
      ...(tlsOptions.insecure ? { rejectUnauthorized: false } : { secureContext: trustStore(attempt.options.env ?? process.env, tlsOptions.proxyCa).secureContext }),
      ALPNProtocols: ['http/1.1'],
    };
    // allowHalfOpen is honoured by TLSSocket but missing from ConnectionOptions' type.
    const socket = tlsConnect({ ...connectOptions, allowHalfOpen: true } as ConnectionOptions);
    attempt.sockets.push(socket);
    const onError = (error: NodeJS.ErrnoException) => {
      socket.destroy();
      const certificateProblem = /CERT|certificate|SELF_SIGNED|UNABLE_TO/i.test(`${error.code ?? ''} ${error.message}`);
      reject(
        new BurrowError('unreachable', `TLS to the proxy ${label} failed: ${error.message}`, {
          proxy: label,
          said: error.code ?? error.message,
          phase: 'proxy-tls',
          cause: error,
          hint: certificateProblem
            ? 'the proxy\'s certificate is not trusted: pass its CA with --proxy-ca FILE (or --proxy-insecure to skip the check, which lets anyone on the path read your proxy password)'
            : 'is it really an https:// proxy? Most proxies speak plain http:// even for HTTPS traffic',
        }),
      );
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** A TLS session with the target itself, over a tunnel dial() opened. */
export interface TargetTls {
  socket: TLSSocket;
  /** The ALPN protocol agreed, or null. */
  alpn: string | null;
  /** The certificate's issuer (its CN, else its O), '' when none was shown. */
  issuer: string;
}

/**
 * TLS to the target over `stream` (burrow tsh's Teleport ping and TLS-routing check), offering `alpn`. The
 * certificate is read, not verified: the session is only used to learn facts (the ping answer, which protocol was
 * agreed, who issued the certificate) and nothing secret is sent over it. Rejects with Node's TLS error (a
 * middlebox refusing Teleport's ALPN answers ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) or on `signal`.
 */
export function startTargetTls(stream: Duplex, host: string, alpn: string[], signal: AbortSignal): Promise<TargetTls> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ socket: stream as Socket, ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false, ALPNProtocols: alpn });
    const onAbort = () => {
      socket.destroy();
      reject(new Error('no TLS handshake in time'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    });
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.on('error', () => {});
      const issuer = socket.getPeerCertificate(false)?.issuer as unknown as Record<string, string | string[] | undefined> | undefined;
      const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
      resolve({ socket, alpn: socket.alpnProtocol || null, issuer: first(issuer?.CN) ?? first(issuer?.O) ?? '' });
    });
  });
}
