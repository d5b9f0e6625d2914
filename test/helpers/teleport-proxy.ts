// A Teleport-like proxy for the tsh tests (a Teleport cluster cannot be installed here; this behaves like one on
// the points burrow and tsh depend on, REFERENCE.md §1 and §6). One TLS port, as a proxy with TLS routing has:
// - ALPN "teleport-proxy-ssh": the SSH service; here the stream is handed to `ssh` (the real sshd in interop tests);
// - ALPN "teleport-reversetunnel": accepted and closed (what tsh's ALPN test offers);
// - otherwise HTTP/1.1: GET /webapi/ping answers `ping()`; GET /webapi/connectionupgrade with Upgrade: websocket and
//   the sub-protocol "alpn" switches protocols, and the WebSocket's binary frames carry a new TLS connection to this
//   same server (so ALPN "teleport-proxy-ssh" inside it reaches the SSH service), as Teleport's upgrade does.
import { createHash } from 'node:crypto';
import { connect, type Server } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import type { Peer } from './node-peers.ts';
import { listenTracked, type HostCa } from './wrap-peers.ts';

export interface TeleportProxyOptions {
  /** The /webapi/ping answer (JSON). */
  ping: () => object;
  /** Where the SSH service is (ALPN teleport-proxy-ssh, direct or upgraded). */
  ssh?: { host: string; port: number };
}

export interface TeleportProxy extends Peer {
  pings: number;
  /** TLS connections that agreed ALPN teleport-proxy-ssh, and how many of them came through the upgrade. */
  sshStreams: number;
  upgradedSshStreams: number;
  /** WebSocket connection upgrades. */
  upgrades: number;
}

export const TELEPORT_ALPN = ['teleport-proxy-ssh', 'teleport-reversetunnel', 'http/1.1'];

export async function startTeleportProxy(ca: HostCa, options: TeleportProxyOptions): Promise<TeleportProxy> {
  const counts = { pings: 0, sshStreams: 0, upgradedSshStreams: 0, upgrades: 0 };
  const tlsOptions = { cert: ca.cert, key: ca.key, ALPNProtocols: TELEPORT_ALPN };
  const handle = (socket: TLSSocket, viaUpgrade: boolean): void => {
    socket.on('error', () => {});
    if (socket.alpnProtocol === 'teleport-proxy-ssh') {
      counts.sshStreams++;
      if (viaUpgrade) counts.upgradedSshStreams++;
      if (!options.ssh) return void socket.destroy();
      const upstream = connect({ ...options.ssh, allowHalfOpen: true });
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      socket.pipe(upstream);
      upstream.pipe(socket);
      return;
    }
    if (socket.alpnProtocol === 'teleport-reversetunnel') return void socket.end();
    serveHttp(socket, options, counts, (stream) => {
      // A new TLS connection inside the WebSocket, to the same services.
      const inner = new TLSSocket(stream, { isServer: true, ...tlsOptions });
      inner.on('error', () => stream.destroy());
      inner.once('secure', () => handle(inner, true));
    });
  };
  const server = createTlsServer({ ...tlsOptions, allowHalfOpen: true }, (socket) => handle(socket, false));
  server.on('tlsClientError', () => {});
  const peer = await listenTracked(server as unknown as Server, 'https');
  for (const name of Object.keys(counts) as Array<keyof typeof counts>) Object.defineProperty(peer, name, { get: () => counts[name], enumerable: true });
  return peer as TeleportProxy;
}

function serveHttp(socket: TLSSocket, options: TeleportProxyOptions, counts: { pings: number; upgrades: number }, inject: (stream: Duplex) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    for (;;) {
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const request = head.subarray(0, end).toString('latin1');
      head = head.subarray(end + 4);
      const header = (name: string) => new RegExp(`\\r\\n${name}:\\s*([^\\r\\n]*)`, 'i').exec(request)?.[1]?.trim();
      if (request.startsWith('GET /webapi/connectionupgrade ') && /websocket/i.test(header('upgrade') ?? '') && header('sec-websocket-key')) {
        counts.upgrades++;
        const accept = createHash('sha1').update(`${header('sec-websocket-key')}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        socket.off('data', onData);
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: alpn\r\n\r\n`);
        inject(webSocketStream(socket, head));
        return;
      }
      const ok = request.startsWith('GET /webapi/ping ');
      if (ok) counts.pings++;
      const body = ok ? JSON.stringify(options.ping()) : 'not found';
      const close = /^GET \S+ HTTP\/1\.0\r\n/.test(request) || /^close$/i.test(header('connection') ?? '');
      socket.write(`HTTP/1.1 ${ok ? '200 OK' : '404 Not Found'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${body}`);
      if (close) return void socket.end();
    }
  };
  socket.on('data', onData);
}

/** The server side of a WebSocket (RFC 6455) as a byte stream: masked client frames in, unmasked binary frames out. */
export function webSocketStream(socket: Duplex, leftover: Buffer): Duplex {
  let pending = leftover;
  const frame = (opcode: number, payload: Buffer): Buffer => {
    const length = payload.length;
    const head = length < 126 ? Buffer.from([0x80 | opcode, length]) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (length >= 126) {
      head[0] = 0x80 | opcode;
      head[1] = length < 65536 ? 126 : 127;
      if (length < 65536) head.writeUInt16BE(length, 2);
      else head.writeBigUInt64BE(BigInt(length), 2);
    }
    return Buffer.concat([head, payload]);
  };
  const stream = new Duplex({
    allowHalfOpen: true,
    write(chunk: Buffer, _encoding, callback) {
      socket.write(frame(2, chunk), callback);
    },
    final(callback) {
      socket.end(frame(8, Buffer.alloc(0)));
      callback();
    },
    read() {
      socket.resume();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  const parse = () => {
    for (;;) {
      if (pending.length < 2) return;
      let length = pending[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (pending[1]! & 0x80) !== 0;
      const mask = masked ? pending.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      if (pending.length < offset + length) return;
      const payload = Buffer.from(pending.subarray(offset, offset + length));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      const opcode = pending[0]! & 0x0f;
      pending = pending.subarray(offset + length);
      if (opcode === 8) return void stream.push(null);
      if (opcode === 9) socket.write(frame(10, payload));
      else if ((opcode === 0 || opcode === 2) && !stream.push(payload)) socket.pause();
    }
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    parse();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  queueMicrotask(parse);
  return stream;
}
