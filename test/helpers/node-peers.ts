// Peers written for the hermetic tests: a target that echoes, one that speaks first, an HTTP CONNECT proxy whose
// misbehaviour each test chooses, a SOCKS5 server that records what it was asked, and an SSH server (ssh2).
// Real proxies cannot be told to split their headers into single bytes or to answer without a reason phrase on
// demand; these can, which is why the parser's edge cases are tested against them and not against squid.
import { createHash } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import ssh2 from 'ssh2';

export interface Peer {
  host: string;
  port: number;
  url: string;
  connections: number;
  close(): Promise<void>;
}

export async function listen(server: Server, scheme = 'tcp', listenPort = 0): Promise<Peer> {
  server.listen(listenPort, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const sockets = new Set<Socket>();
  const peer: Peer = {
    host: '127.0.0.1',
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    connections: 0,
    close: async () => {
      // ssh2's Server emits its Connection objects (end(), no destroy()) where a net.Server emits sockets.
      for (const socket of sockets) (typeof socket.destroy === 'function' ? socket.destroy() : (socket as unknown as { end(): void }).end());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: Socket) => {
    peer.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  return peer;
}

/** Echoes every byte; ends its side when the client ends its side. */
export function startEchoServer(): Promise<Peer> {
  return listen(createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket)));
}

/**
 * Reads until the client half-closes, then answers "<bytes> <sha256>\n" and closes: proves that a FIN crossed
 * the tunnel and that the answer still came back after it.
 */
export function startDigestServer(): Promise<Peer> {
  return listen(
    createServer({ allowHalfOpen: true }, (socket) => {
      const hash = createHash('sha256');
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      socket.on('end', () => socket.end(`${bytes} ${hash.digest('hex')}\n`));
    }),
  );
}

/** Speaks first, like an SSH server, then echoes. */
export function startBannerServer(banner = 'SSH-2.0-burrow-test\r\n'): Promise<Peer> {
  return listen(
    createServer({ allowHalfOpen: true }, (socket) => {
      socket.write(banner);
      socket.pipe(socket);
    }),
  );
}

export interface ConnectProxyOptions {
  /** Required credentials; a request without the right Basic header gets 407. */
  auth?: { user: string; password: string; schemes?: string[] };
  /** Answer every CONNECT with this status line (e.g. "HTTP/1.1 403 Forbidden") and these headers. */
  refuse?: { statusLine: string; headers?: string[] };
  /** Refuse ports other than 443 with 403, as many corporate proxies do. */
  only443?: boolean;
  /** The success status line; default "HTTP/1.1 200 Connection established". */
  statusLine?: string;
  /** Extra headers on the 200. */
  headers?: string[];
  /** Wait for the target's first bytes and send them in the same write as the 200. */
  coalesce?: boolean;
  /** Write the answer one byte at a time. */
  trickle?: boolean;
  /**
   * With `auth`: answer a CONNECT without credentials with a kept-alive 407 and, in the same write, the 200 and the
   * target's first bytes, before the credentials have come (then take the credentialed request and relay). A client
   * that sends credentials at once gets the usual answer. No real
   * proxy answers ahead like this; it is the one case left in which a client reads past the proxy's answer, while it
   * reads the 407's body in bulk (src/dial/http-connect.ts).
   */
  answerAhead?: boolean;
  /** Accept the TCP connection and never answer. */
  silent?: boolean;
  /** Answer with these raw bytes and close. */
  raw?: Buffer | string;
  /** Speak NTLM (a stand-in, see fakeNtlmStep) instead of taking every request. */
  ntlm?: FakeNtlmOptions;
  /** Names the proxy resolves itself (like squid's hosts_file): a target name only the proxy knows. */
  hosts?: Record<string, string>;
  /** Called for each request, e.g. to narrate it. */
  onRequest?: (requestLine: string, headers: Record<string, string>) => void;
  /** Listen on this port instead of a free one (to restart a proxy where clients expect it). */
  port?: number;
}

export interface ConnectProxy extends Peer {
  /** Every request head, with the number of the client connection it came on (1, 2, ...). */
  requests: Array<{ requestLine: string; headers: Record<string, string>; connection?: number }>;
}

export interface FakeNtlmOptions {
  /** The user name the type-3 message must carry. */
  user: string;
  /** Answer the first, unauthenticated request with Connection: close (the client must reconnect). */
  closeFirst?: boolean;
  /** How the 407 bodies are framed: the client must skip them to reuse the connection. */
  body?: 'length' | 'chunked';
  /** Offer Basic beside NTLM in the first 407 (default true); false stages an NTLM-only proxy. */
  offerBasic?: boolean;
}

// A stand-in for an NTLM proxy: it checks the message types, that type 3 comes on the connection that got the
// type-2 challenge, and the user name inside type 3 (not the password hash: the interop suite's NTLM peer verifies
// the NTLMv2 response with impacket). Its type 2 looks like a Windows server's (Unicode, NTLMv2 session security,
// target info with the domain and computer names and a timestamp). Hermetic tests need it for the
// connection-handling cases real squid won't stage.
function fakeNtlmStep(options: FakeNtlmOptions, authorization: string | undefined, state: { leg: number }): { kind: 'ok' } | { kind: 'challenge'; response: string; close: boolean } {
  const body = 'authentication required\n';
  const framed = (extra: string[], close: boolean) => {
    const framing = options.body === 'chunked' ? ['Transfer-Encoding: chunked'] : [`Content-Length: ${body.length}`];
    const payload = options.body === 'chunked' ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body;
    return { kind: 'challenge' as const, close, response: `${['HTTP/1.1 407 Proxy Authentication Required', ...extra, ...framing, `Connection: ${close ? 'close' : 'keep-alive'}`].join('\r\n')}\r\n\r\n${payload}` };
  };
  const message = /^NTLM (\S+)$/.exec(authorization ?? '')?.[1];
  const decoded = message ? Buffer.from(message, 'base64') : undefined;
  const type = decoded && decoded.subarray(0, 8).toString('latin1') === 'NTLMSSP\0' ? decoded.readUInt32LE(8) : 0;
  if (type === 1) {
    state.leg = 1;
    return framed([`Proxy-Authenticate: NTLM ${fakeType2().toString('base64')}`], false);
  }
  if (type === 3 && state.leg === 1) {
    const length = decoded!.readUInt16LE(36);
    const offset = decoded!.readUInt32LE(40);
    // Type 3's flags say how its strings are encoded: UTF-16LE when NEGOTIATE_UNICODE was agreed.
    const unicode = decoded!.length >= 64 && (decoded!.readUInt32LE(60) & 0x1) !== 0;
    const user = decoded!.subarray(offset, offset + length).toString(unicode ? 'utf16le' : 'latin1');
    if (user === options.user) return { kind: 'ok' };
    return framed(['Proxy-Authenticate: NTLM'], true);
  }
  const offered = options.offerBasic === false ? ['Proxy-Authenticate: NTLM'] : ['Proxy-Authenticate: NTLM', 'Proxy-Authenticate: Basic realm="fake"'];
  return framed(offered, Boolean(options.closeFirst) || type === 3);
}

/** AV pairs (MS-NLMP 2.2.2.1): id, length, value; ended by MsvAvEOL. */
function avPairs(pairs: Array<[number, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of [...pairs, [0, Buffer.alloc(0)] as [number, Buffer]]) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value);
  }
  return Buffer.concat(parts);
}

function fakeType2(): Buffer {
  const utf16 = (s: string) => Buffer.from(s, 'utf16le');
  const target = utf16('CORP');
  const timestamp = Buffer.alloc(8);
  timestamp.writeBigUInt64LE((BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n);
  // MsvAvNbComputerName, MsvAvNbDomainName, MsvAvDnsComputerName, MsvAvDnsDomainName, MsvAvTimestamp
  const targetInfo = avPairs([
    [1, utf16('PROXY')],
    [2, utf16('CORP')],
    [3, utf16('proxy.corp.example')],
    [4, utf16('corp.example')],
    [7, timestamp],
  ]);
  const message = Buffer.alloc(48 + target.length + targetInfo.length);
  message.write('NTLMSSP\0', 0, 'latin1');
  message.writeUInt32LE(2, 8);
  message.writeUInt16LE(target.length, 12);
  message.writeUInt16LE(target.length, 14);
  message.writeUInt32LE(48, 16);
  // NEGOTIATE_UNICODE | REQUEST_TARGET | NEGOTIATE_NTLM | TARGET_TYPE_DOMAIN | EXTENDED_SESSIONSECURITY (NTLMv2) |
  // NEGOTIATE_TARGET_INFO | NEGOTIATE_128 | NEGOTIATE_56: what a Windows server sends.
  message.writeUInt32LE((0x00000001 | 0x00000004 | 0x00000200 | 0x00010000 | 0x00080000 | 0x00800000 | 0x20000000 | 0x80000000) >>> 0, 20);
  message.write('0123456789abcdef', 24, 'hex');
  message.writeUInt16LE(targetInfo.length, 40);
  message.writeUInt16LE(targetInfo.length, 42);
  message.writeUInt32LE(48 + target.length, 44);
  target.copy(message, 48);
  targetInfo.copy(message, 48 + target.length);
  return message;
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const requests: ConnectProxy['requests'] = [];
  let connections = 0;
  const server = createServer({ allowHalfOpen: true }, (client) => {
    let head = Buffer.alloc(0);
    const connection = ++connections;
    const ntlmState = { leg: 0 };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      for (;;) {
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [requestLine = '', ...headerLines] = head.subarray(0, end).toString('latin1').split('\r\n');
        head = head.subarray(end + 4);
        const headers: Record<string, string> = {};
        for (const line of headerLines) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        requests.push({ requestLine, headers, connection });
        options.onRequest?.(requestLine, headers);
        if (options.ntlm) {
          const verdict = fakeNtlmStep(options.ntlm, headers['proxy-authorization'], ntlmState);
          if (verdict.kind !== 'ok') {
            client.write(verdict.response);
            if (verdict.close) {
              client.end();
              return;
            }
            continue; // the next leg comes on this connection
          }
        }
        client.off('data', onData);
        client.pause();
        void answer(client, requestLine, headers, head);
        return;
      }
    };
    client.on('data', onData);
  });

  const write = async (socket: Socket, data: Buffer) => {
    if (!options.trickle) {
      socket.write(data);
      return;
    }
    for (const byte of data) {
      socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };

  const answer = async (client: Socket, requestLine: string, headers: Record<string, string>, rest: Buffer) => {
    if (options.silent) return;
    if (options.answerAhead && options.auth && headers['proxy-authorization'] === undefined) {
      await answerAhead(client, requestLine, rest, options.auth).catch(() => client.destroy());
      return;
    }
    if (options.raw !== undefined) {
      client.end(options.raw);
      return;
    }
    if (options.auth) {
      const expected = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`;
      if (headers['proxy-authorization'] !== expected) {
        const schemes = options.auth.schemes ?? ['Basic realm="burrow-test"'];
        const lines = ['HTTP/1.1 407 Proxy Authentication Required', ...schemes.map((s) => `Proxy-Authenticate: ${s}`), 'Content-Length: 0', 'Connection: close'];
        client.end(`${lines.join('\r\n')}\r\n\r\n`);
        return;
      }
    }
    const match = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine);
    const authority = match?.[1] ?? '';
    const colon = authority.lastIndexOf(':');
    const host = authority.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(authority.slice(colon + 1));
    if (options.refuse || (options.only443 && port !== 443)) {
      const refuse = options.refuse ?? { statusLine: 'HTTP/1.1 403 Forbidden', headers: ['X-Squid-Error: ERR_ACCESS_DENIED 0'] };
      client.end(`${[refuse.statusLine, ...(refuse.headers ?? []), 'Content-Length: 0'].join('\r\n')}\r\n\r\n`);
      return;
    }
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const upstream = connect({ host: options.hosts?.[host] ?? host, port, allowHalfOpen: true });
    upstream.on('error', () => {
      if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    try {
      await once(upstream, 'connect');
    } catch {
      return; // answered 502 above (a dead next hop, in failover tests)
    }
    const okHead = Buffer.from(`${[options.statusLine ?? 'HTTP/1.1 200 Connection established', ...(options.headers ?? [])].join('\r\n')}\r\n\r\n`);
    if (options.coalesce) {
      const [first] = (await once(upstream, 'data')) as [Buffer];
      upstream.pause();
      await write(client, Buffer.concat([okHead, first]));
    } else {
      await write(client, okHead);
    }
    client.on('error', () => upstream.destroy());
    relayBoth(client, upstream, rest);
  };

  const answerAhead = async (client: Socket, requestLine: string, rest: Buffer, auth: { user: string; password: string }) => {
    const authority = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine)?.[1] ?? '';
    const colon = authority.lastIndexOf(':');
    const upstream = connect({ host: authority.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(authority.slice(colon + 1)), allowHalfOpen: true });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const [first] = (await once(upstream, 'data')) as [Buffer];
    upstream.pause();
    const body = 'credentials, please\n';
    const challenge = ['HTTP/1.1 407 Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="burrow-test"', `Content-Length: ${body.length}`, 'Connection: keep-alive'];
    client.write(Buffer.concat([Buffer.from(`${challenge.join('\r\n')}\r\n\r\n${body}HTTP/1.1 200 Connection established\r\n\r\n`), first]));
    // The credentialed request: its answer went out above.
    let head = rest;
    client.resume();
    while (head.indexOf('\r\n\r\n') < 0) head = Buffer.concat([head, ((await once(client, 'data')) as [Buffer])[0]]);
    client.pause();
    const end = head.indexOf('\r\n\r\n');
    const [line = '', ...headerLines] = head.subarray(0, end).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(headerLines.map((h) => [h.slice(0, h.indexOf(':')).trim().toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
    requests.push({ requestLine: line, headers });
    if (headers['proxy-authorization'] !== `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`) {
      client.destroy();
      upstream.destroy();
      return;
    }
    relayBoth(client, upstream, head.subarray(end + 4));
  };

  const peer = await listen(server, 'http', options.port ?? 0);
  return Object.assign(peer, { requests });
}

/** Relays a proxy's client and its upstream both ways, `rest` (what the client sent behind its request) first. */
function relayBoth(client: Socket, upstream: Socket, rest: Buffer): void {
  if (rest.length) upstream.write(rest);
  client.pipe(upstream);
  upstream.pipe(client);
  upstream.resume();
  client.resume();
  upstream.on('close', () => client.destroy());
  // close() destroys client sockets: the upstream must not stay half-open behind them (a peer's close would wait).
  client.on('close', () => upstream.destroy());
}

export interface SocksServer extends Peer {
  /** Each request's address type and address: "domain localhost", "ipv4 127.0.0.1", ... */
  requests: string[];
}

/**
 * A minimal SOCKS5 server (RFC 1928, with RFC 1929 user/password when `auth` is given). `hosts` maps names to
 * addresses on the proxy's side, the way a remote proxy resolves names that this machine cannot.
 */
export async function startSocks5Server(
  auth?: { user: string; password: string },
  hosts: Record<string, string> = {},
  options: { coalesce?: boolean } = {},
): Promise<SocksServer> {
  const requests: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (client) => {
    let buffer = Buffer.alloc(0);
    let state: 'greeting' | 'auth' | 'request' = 'greeting';
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (state === 'greeting') {
          if (buffer.length < 2 || buffer.length < 2 + buffer[1]!) return;
          const methods = [...buffer.subarray(2, 2 + buffer[1]!)];
          buffer = buffer.subarray(2 + buffer[1]!);
          const method = auth ? 0x02 : 0x00;
          if (!methods.includes(method)) {
            client.end(Buffer.from([5, 0xff]));
            return;
          }
          client.write(Buffer.from([5, method]));
          state = auth ? 'auth' : 'request';
        } else if (state === 'auth') {
          if (buffer.length < 2) return;
          const ulen = buffer[1]!;
          if (buffer.length < 3 + ulen) return;
          const plen = buffer[2 + ulen]!;
          if (buffer.length < 3 + ulen + plen) return;
          const user = buffer.subarray(2, 2 + ulen).toString();
          const password = buffer.subarray(3 + ulen, 3 + ulen + plen).toString();
          buffer = buffer.subarray(3 + ulen + plen);
          const ok = user === auth!.user && password === auth!.password;
          client.write(Buffer.from([1, ok ? 0 : 1]));
          if (!ok) {
            client.end();
            return;
          }
          state = 'request';
        } else {
          if (buffer.length < 5) return;
          const atyp = buffer[3]!;
          const addressLength = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buffer[4]!;
          if (buffer.length < 4 + addressLength + 2) return;
          const raw = buffer.subarray(4, 4 + addressLength);
          const host = atyp === 1 ? [...raw].join('.') : atyp === 4 ? raw.toString('hex').replace(/(.{4})(?!$)/g, '$1:') : raw.subarray(1).toString();
          const port = buffer.readUInt16BE(4 + addressLength);
          const rest = buffer.subarray(4 + addressLength + 2);
          requests.push(`${atyp === 1 ? 'ipv4' : atyp === 4 ? 'ipv6' : 'domain'} ${host}`);
          client.off('data', onData);
          client.pause();
          const upstream = connect({ host: hosts[host] ?? host, port, allowHalfOpen: true });
          upstream.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
          upstream.once('connect', async () => {
            const reply = Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]);
            if (options.coalesce) {
              // The reply and the target's first bytes (an SSH banner) in one write, as dante does now and then when
              // the banner has arrived before it answers: a client must not read past the reply's ten bytes.
              const [first] = (await once(upstream, 'data')) as [Buffer];
              upstream.pause();
              client.write(Buffer.concat([reply, first]));
            } else {
              client.write(reply);
            }
            if (rest.length) upstream.write(rest);
            client.pipe(upstream);
            upstream.pipe(client);
            client.resume();
            upstream.on('close', () => client.destroy());
            client.on('close', () => upstream.destroy());
          });
          return;
        }
      }
    };
    client.on('data', onData);
  });
  const peer = await listen(server, 'socks5h');
  return Object.assign(peer, { requests });
}

export interface SshServer extends Peer {
  commands: string[];
}

/**
 * An ed25519 key pair for an ssh2 Server. ssh2 1.17 now and then (about 7 in 2000) generates a key its own parser
 * rejects ("Malformed OpenSSH private key"), which failed a test at random: such a key is replaced.
 */
export function generateHostKey(): { private: string; public: string } {
  let keys = ssh2.utils.generateKeyPairSync('ed25519');
  for (let i = 0; i < 10 && ssh2.utils.parseKey(keys.private) instanceof Error; i++) keys = ssh2.utils.generateKeyPairSync('ed25519');
  return keys;
}

/**
 * ssh2's Server: accepts any client (auth "none" included), runs `sha256sum` on the channel's input like the
 * coreutils command, and answers every other command with "ran: COMMAND".
 */
export async function startSshServer(): Promise<SshServer> {
  const hostKey = generateHostKey().private;
  const commands: string[] = [];
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => ctx.accept());
    client.on('session', (accept) => {
      const session = accept();
      session.on('exec', (acceptExec, _reject, info) => {
        const channel = acceptExec();
        commands.push(info.command);
        if (info.command === 'sha256sum') {
          const hash = createHash('sha256');
          channel.on('data', (chunk: Buffer) => hash.update(chunk));
          channel.on('end', () => {
            channel.write(`${hash.digest('hex')}  -\n`);
            channel.exit(0);
            channel.end();
          });
          return;
        }
        channel.write(`ran: ${info.command}\n`);
        channel.exit(0);
        channel.end();
      });
    });
  });
  const peer = await listen(server as unknown as Server, 'ssh');
  return Object.assign(peer, { commands });
}

export interface HttpPeer extends Peer {
  /** Each request as received: the request line's method and target, and the headers (lower-case names). */
  requests: Array<{ method: string; url: string; headers: Record<string, string | string[] | undefined> }>;
}

/** An origin server: answers every request with "hello PATH" (text/plain), and records it. */
export async function startHttpServer(): Promise<HttpPeer> {
  const requests: HttpPeer['requests'] = [];
  const server = createHttpServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'text/plain');
      response.end(`hello ${request.url}`);
    });
  });
  const peer = await listen(server as unknown as Server, 'http');
  return Object.assign(peer, { requests });
}

/**
 * A plain (non-CONNECT) HTTP forward proxy: takes absolute-form requests, checks Basic credentials when `auth`
 * is given (407 otherwise), records each request, and fetches the URL itself.
 */
export async function startForwardProxy(auth?: { user: string; password: string }): Promise<HttpPeer> {
  const requests: HttpPeer['requests'] = [];
  const server = createHttpServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    if (auth && request.headers['proxy-authorization'] !== `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`) {
      response.writeHead(407, { 'proxy-authenticate': 'Basic realm="burrow-test"', connection: 'close' });
      response.end();
      return;
    }
    if (!request.url?.startsWith('http://')) {
      response.writeHead(400);
      response.end('absolute-form only');
      return;
    }
    const headers = { ...request.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest(request.url, { method: request.method, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => {
      response.writeHead(502);
      response.end();
    });
    request.pipe(upstream);
  });
  const peer = await listen(server as unknown as Server, 'http');
  return Object.assign(peer, { requests });
}
