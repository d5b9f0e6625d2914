// A TLS-inspecting HTTP CONNECT proxy for the tests (Zscaler-style inspection or an L7 load balancer cannot be
// installed here; this one does what they do to TLS, REFERENCE.md §1, §6): it accepts CONNECT, terminates the
// client's TLS itself with a certificate from its own CA (ALPN http/1.1 at most: Teleport's protocols are refused),
// opens its own TLS connection to the destination (offering only http/1.1, not checking the certificate), and
// relays the plaintext between the two. TLS routing's ALPN protocols therefore never reach the Teleport proxy.
import { connect as tcpConnect, createServer, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import type { Peer } from './node-peers.ts';
import { listenTracked, onRequestHead, type HostCa } from './wrap-peers.ts';

export interface InspectingProxy extends Peer {
  /** "CONNECT host:port" of every request. */
  log: string[];
  /** Client connections the proxy took over, with the ALPN protocols the client offered. */
  intercepted: Array<{ target: string; offered: string[] }>;
}

/** `ca` is the inspector's own: its certificate must name the hosts clients connect to. */
export async function startInspectingProxy(ca: HostCa, hosts: Record<string, string> = {}): Promise<InspectingProxy> {
  const log: string[] = [];
  const intercepted: InspectingProxy['intercepted'] = [];
  const server = createServer({ allowHalfOpen: true }, (client: Socket) => {
    onRequestHead(client, (text, rest) => {
      const match = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]\r\n/.exec(`${text}\r\n`);
      if (!match) return void client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      const host = match[1]!.replace(/^\[|\]$/g, '');
      const port = Number(match[2]);
      const target = `${match[1]}:${port}`;
      log.push(`CONNECT ${target}`);
      if (rest.length) client.unshift(rest);
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      let offered: string[] = [];
      const inside = new TLSSocket(client, {
        isServer: true,
        cert: ca.cert,
        key: ca.key,
        // The inspector speaks HTTP/1.1 at most: any other protocol the client offers ends the handshake with a
        // "no application protocol" alert, as OpenSSL-based middleboxes answer.
        ALPNCallback: ({ protocols }) => {
          offered = protocols;
          return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
        },
      });
      inside.on('error', () => client.destroy());
      client.once('close', () => intercepted.push({ target, offered }));
      inside.once('secure', () => {
        const upstream = tlsConnect({ socket: tcpConnect({ host: hosts[host] ?? host, port }), ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
        upstream.on('error', () => inside.destroy());
        inside.on('close', () => upstream.destroy());
        upstream.on('close', () => inside.destroy());
        inside.pipe(upstream);
        upstream.pipe(inside);
      });
    });
  });
  const peer = await listenTracked(server, 'http');
  return Object.assign(peer, { log, intercepted });
}
