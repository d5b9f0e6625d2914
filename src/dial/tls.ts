import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, rootCertificates, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { BurrowError } from '../errors.ts';
import { displayProxy, type ProxyEndpoint } from '../route/proxy-url.ts';
import type { DialAttempt } from './context.ts';

// TLS to an https:// proxy (not to the target): verified against the system roots plus --proxy-ca, with SNI, and
// ALPN http/1.1 so a proxy that also speaks h2 answers CONNECT in HTTP/1.1.
export function startProxyTls(stream: Duplex, proxy: ProxyEndpoint, attempt: DialAttempt): Promise<TLSSocket> {
  const label = displayProxy(proxy);
  attempt.phase = `TLS handshake with proxy ${label}`;
  attempt.stage = 'proxy-tls';
  const tlsOptions = attempt.options.tls ?? {};
  return new Promise((resolve, reject) => {
    const connectOptions: ConnectionOptions = {
      socket: stream as Socket,
      servername: isIP(proxy.host) ? undefined : proxy.host,
      ca: tlsOptions.proxyCa ? [...rootCertificates, tlsOptions.proxyCa] : undefined,
      rejectUnauthorized: !tlsOptions.insecure,
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
