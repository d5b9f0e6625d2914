// The local proxies of `burrow forward`: -D (SOCKS5, SOCKS4/4a) and --http (CONNECT, absolute-form plain HTTP),
// against Node peers, plus hostile and broken input. Each case checks the protocol-correct refusal on the wire and
// that the process keeps serving afterwards.
import { SocksClient } from 'socks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectLocal, exchange, readBytes, startForward, type ForwardProcess } from '../helpers/burrow-forward.ts';
import { startConnectProxy, startEchoServer, startForwardProxy, startHttpServer, type ConnectProxy, type HttpPeer, type Peer } from '../helpers/node-peers.ts';
import { cleanEnv } from '../helpers/run-burrow.ts';

const USER = 'local';
const PASSWORD = 'pa:ss w0rd';

let echo: Peer;
let web: HttpPeer;
let refusing: ConnectProxy;
let upstreamHttp: HttpPeer;
let open: ForwardProcess; // -D and --http without --auth, direct
let authed: ForwardProcess; // -D and --http with --auth
let viaRefusing: ForwardProcess; // -D and --http through a proxy that answers 403
let viaUpstream: ForwardProcess; // --http through an upstream plain-HTTP proxy with Basic auth
let closedPort: number;

beforeAll(async () => {
  echo = await startEchoServer();
  web = await startHttpServer();
  refusing = await startConnectProxy({ refuse: { statusLine: 'HTTP/1.1 403 Forbidden', headers: ['X-Squid-Error: ERR_ACCESS_DENIED 0'] } });
  upstreamHttp = await startForwardProxy({ user: 'up', password: 'up:pass' });
  const gone = await startEchoServer();
  closedPort = gone.port;
  await gone.close();
  const env = cleanEnv();
  [open, authed, viaRefusing, viaUpstream] = await Promise.all([
    startForward(['-v', '--handshake-timeout', '1', '-D', '0', '--http', '0'], { env, listeners: 2 }),
    startForward(['-v', '--auth', `${USER}:${PASSWORD}`, '-D', '0', '--http', '0'], { env, listeners: 2 }),
    startForward(['-v', '-x', refusing.url, '-D', '0', '--http', '0'], { env, listeners: 2 }),
    startForward(['-v', '-x', `http://up:${encodeURIComponent('up:pass')}@127.0.0.1:${upstreamHttp.port}`, '--http', '0'], { env, listeners: 1 }),
  ]);
});

afterAll(async () => {
  await Promise.all([open, authed, viaRefusing, viaUpstream].filter(Boolean).map((f) => f.stop('SIGKILL')));
  await Promise.all([echo, web, refusing, upstreamHttp].filter(Boolean).map((p) => p.close()));
});

// The processes are shared, so every test leaves them serving: checked after each one (not once at the end, which
// would pass only when run after all the others, and would not say which test broke them).
afterEach(async () => {
  for (const f of [open, authed, viaRefusing, viaUpstream]) expect(f.exited()).toBe(false);
  const socket = await socksTo(socksPort(open), { host: '127.0.0.1', port: echo.port });
  expect((await exchange(socket, 'alive\n')).data.toString()).toBe('alive\n');
  const client = await connectLocal(httpPort(open));
  client.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`);
  expect((await readBytes(client, 39)).toString()).toBe('HTTP/1.1 200 Connection established\r\n\r\n');
  client.destroy();
});

const socksPort = (f: ForwardProcess) => f.ports[0]!;
const httpPort = (f: ForwardProcess) => f.ports[f.ports.length - 1]!;

async function socksTo(port: number, destination: { host: string; port: number }, type: 4 | 5 = 5, auth?: { userId: string; password: string }) {
  const { socket } = await SocksClient.createConnection({
    proxy: { host: '127.0.0.1', port, type, ...(auth ?? {}) },
    command: 'connect',
    destination,
    timeout: 10_000,
  });
  return socket;
}

/**
 * Sends raw bytes to a local listener and returns everything it answered. Every exchange here must be ended by the
 * listener itself (an answer, then a close): one that burrow leaves hanging fails the test instead of passing with
 * whatever arrived before the bound.
 */
async function raw(port: number, bytes: Buffer | string, options: { end?: boolean } = {}): Promise<Buffer> {
  const socket = await connectLocal(port);
  const { data, how } = await exchange(socket, bytes, { keepOpen: !options.end, timeoutMs: 10_000 });
  socket.destroy();
  expect(how, `the listener on port ${port} did not end the exchange (got ${data.length} bytes)`).not.toBe('timeout');
  return data;
}

describe('-D: the local SOCKS proxy', () => {
  it('serves SOCKS5 with a host name, SOCKS5 with an IPv4 address, and SOCKS4a', async () => {
    for (const [type, host] of [
      [5, 'localhost'],
      [5, '127.0.0.1'],
      [4, 'localhost'],
    ] as const) {
      const socket = await socksTo(socksPort(open), { host, port: echo.port }, type);
      const { data } = await exchange(socket, `hello ${type} ${host}\n`);
      expect(data.toString()).toBe(`hello ${type} ${host}\n`);
    }
  });

  it('with --auth: takes the right user/password and refuses the rest', async () => {
    const mark = authed.stderr().length;
    const socket = await socksTo(socksPort(authed), { host: '127.0.0.1', port: echo.port }, 5, { userId: USER, password: PASSWORD });
    expect((await exchange(socket, 'authed\n')).data.toString()).toBe('authed\n');
    await expect(socksTo(socksPort(authed), { host: '127.0.0.1', port: echo.port }, 5, { userId: USER, password: 'wrong' })).rejects.toThrow(/auth/i);
    // RFC 1929 failure status on the wire.
    const wrong = Buffer.concat([Buffer.from([5, 1, 2, 1, USER.length]), Buffer.from(USER), Buffer.from([5]), Buffer.from('wrong')]);
    expect([...(await raw(socksPort(authed), wrong))]).toEqual([5, 2, 1, 1]);
    // No user/password offered: "no acceptable methods".
    expect([...(await raw(socksPort(authed), Buffer.from([5, 1, 0])))]).toEqual([5, 0xff]);
    // SOCKS4 cannot carry a password: rejected.
    expect([...(await raw(socksPort(authed), Buffer.from([4, 1, 0, 22, 127, 0, 0, 1, 0])))]).toEqual([0, 0x5b, 0, 0, 0, 0, 0, 0]);
    await authed.waitForStderr(/SOCKS5 authentication failed for user "local"/, undefined, mark);
    expect(authed.stderr()).not.toContain(PASSWORD);
  });

  it('answers a failed dial with the matching reply code and keeps serving', async () => {
    const request = (port: number) => Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]);
    const mark = viaRefusing.stderr().length;
    // Direct to a closed port: "connection refused" (5).
    expect([...(await raw(socksPort(open), request(closedPort)))]).toEqual([5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
    // Through a proxy that answers 403: "not allowed by ruleset" (2).
    expect([...(await raw(socksPort(viaRefusing), request(echo.port)))]).toEqual([5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    await viaRefusing.waitForStderr(/failed: .*403 Forbidden/, undefined, mark);
    // SOCKS4: rejected (0x5b).
    expect([...(await raw(socksPort(open), Buffer.from([4, 1, closedPort >> 8, closedPort & 0xff, 127, 0, 0, 1, 0])))]).toEqual([0, 0x5b, 0, 0, 0, 0, 0, 0]);
    const socket = await socksTo(socksPort(open), { host: '127.0.0.1', port: echo.port });
    expect((await exchange(socket, 'still here\n')).data.toString()).toBe('still here\n');
  });

  it('keeps bytes the client sends right behind its request', async () => {
    const request = Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, echo.port >> 8, echo.port & 0xff]);
    const data = await raw(socksPort(open), Buffer.concat([request, Buffer.from('early bytes\n')]), { end: true });
    expect(data.subarray(12).toString()).toBe('early bytes\n');
  });
});

describe('--http: the local HTTP proxy', () => {
  it('tunnels CONNECT and keeps bytes sent behind the request', async () => {
    const socket = await connectLocal(httpPort(open));
    socket.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\nearly\n`);
    const head = await readBytes(socket, 'HTTP/1.1 200 Connection established\r\n\r\n'.length);
    expect(head.toString()).toBe('HTTP/1.1 200 Connection established\r\n\r\n');
    const { data } = await exchange(socket, 'late\n');
    expect(data.toString()).toBe('early\nlate\n');
  });

  it('fetches plain http:// directly, origin-form, without proxy headers', async () => {
    const answer = await raw(httpPort(open), `GET http://127.0.0.1:${web.port}/direct?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\nProxy-Connection: keep-alive\r\n\r\n`);
    expect(answer.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhello \/direct\?q=1$/);
    const seen = web.requests.find((r) => r.url === '/direct?q=1');
    expect(seen?.headers['proxy-connection']).toBeUndefined();
    expect(seen?.headers.connection).toBe('close');
  });

  it('relays plain http:// absolute-form to an upstream HTTP proxy, adding the upstream\'s Proxy-Authorization', async () => {
    const answer = await raw(httpPort(viaUpstream), `GET http://127.0.0.1:${web.port}/via-upstream HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\nProxy-Authorization: Basic bG9jYWw6bm90LWZvcndhcmRlZA==\r\n\r\n`);
    expect(answer.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*hello \/via-upstream$/);
    const seen = upstreamHttp.requests.filter((r) => r.url.endsWith('/via-upstream'));
    expect(seen.map((r) => r.url)).toEqual([`http://127.0.0.1:${web.port}/via-upstream`, `http://127.0.0.1:${web.port}/via-upstream`]);
    // No credentials until the upstream's 407 asked for Basic; then Basic, and never the client's own header.
    expect(seen.map((r) => r.headers['proxy-authorization'])).toEqual([undefined, `Basic ${Buffer.from('up:up:pass').toString('base64')}`]);
  });

  it('with --auth: 407 without credentials, tunnels with them', async () => {
    const request = `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n`;
    const denied = (await raw(httpPort(authed), `${request}\r\n`)).toString();
    expect(denied).toMatch(/^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
    expect(denied).toMatch(/\r\nProxy-Authenticate: Basic realm="burrow"\r\n/);
    const wrong = (await raw(httpPort(authed), `${request}Proxy-Authorization: Basic ${Buffer.from(`${USER}:nope`).toString('base64')}\r\n\r\n`)).toString();
    expect(wrong).toMatch(/^HTTP\/1\.1 407 /);
    const socket = await connectLocal(httpPort(authed));
    socket.write(`${request}Proxy-Authorization: Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}\r\n\r\n`);
    const head = await readBytes(socket, 39);
    expect(head.toString()).toBe('HTTP/1.1 200 Connection established\r\n\r\n');
    expect((await exchange(socket, 'ok\n')).data.toString()).toBe('ok\n');
  });

  it('answers failed dials with 502 / 403 and the reason, and keeps serving', async () => {
    const refused = (await raw(httpPort(open), `CONNECT 127.0.0.1:${closedPort} HTTP/1.1\r\n\r\n`)).toString();
    expect(refused).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[^]*X-Burrow-Error: unreachable\r\n[^]*refused the TCP connection/);
    const forbidden = (await raw(httpPort(viaRefusing), `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`)).toString();
    expect(forbidden).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[^]*X-Burrow-Error: refused\r\n[^]*403 Forbidden/);
  });
});

describe('bad input never crashes the local proxies', () => {
  const socks5Cases: Array<[string, Buffer, number[] | 'closed']> = [
    ['a greeting with no methods', Buffer.from([5, 0]), [5, 0xff]],
    ['a greeting without any supported method', Buffer.from([5, 1, 0x80]), [5, 0xff]],
    ['a BIND request', Buffer.from([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 22]), [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]],
    ['an unknown address type', Buffer.from([5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4, 0, 22]), [5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0]],
    ['an empty host name', Buffer.from([5, 1, 0, 5, 1, 0, 3, 0, 0, 22]), [5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0]],
    ['CRLF in the host name', Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, 11]), Buffer.from('a\r\nX: y.com'), Buffer.from([0, 22])]), [5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0]],
    ['port 0', Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 0]), [5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0]],
    ['a wrong request version', Buffer.from([5, 1, 0, 4, 1, 0, 1, 127, 0, 0, 1, 0, 22]), [5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0]],
    ['a truncated greeting', Buffer.from([5, 255, 0, 1]), 'closed'],
    ['a truncated request', Buffer.from([5, 1, 0, 5, 1, 0, 3, 200, 97, 98]), 'closed'],
  ];
  it.each(socks5Cases)('SOCKS5: %s', async (_name, bytes, expected) => {
    const answer = await raw(socksPort(open), bytes, { end: true });
    if (expected === 'closed') expect([...answer].length).toBeLessThanOrEqual(2);
    else expect([...answer]).toEqual(expected);
  });

  it('SOCKS4: a BIND request, and a user id with no end, are rejected', async () => {
    expect([...(await raw(socksPort(open), Buffer.from([4, 2, 0, 22, 127, 0, 0, 1, 0])))]).toEqual([0, 0x5b, 0, 0, 0, 0, 0, 0]);
    expect([...(await raw(socksPort(open), Buffer.concat([Buffer.from([4, 1, 0, 22, 127, 0, 0, 1]), Buffer.alloc(1000, 0x41)])))]).toEqual([0, 0x5b, 0, 0, 0, 0, 0, 0]);
  });

  it('drops a client that starts a handshake and goes quiet (--handshake-timeout)', async () => {
    const mark = open.stderr().length;
    const socket = await connectLocal(socksPort(open));
    const { how } = await exchange(socket, Buffer.from([5, 1]), { keepOpen: true, timeoutMs: 10_000 });
    expect(how).not.toBe('timeout');
    await open.waitForStderr(/no complete request within 1 s/, undefined, mark);
  });

  it.each([
    ['CRLF smuggled into the CONNECT target', 'CONNECT evil:22\nX-Injected: 1 HTTP/1.1\r\n\r\n', 400],
    ['a space in the CONNECT host', 'CONNECT ev il:22 HTTP/1.1\r\n\r\n', 400],
    ['a CONNECT without a port', 'CONNECT example.org HTTP/1.1\r\n\r\n', 400],
    ['an origin-form GET', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['binary garbage', '\u0016\u0003\u0001\u0000\u00ff\r\n\r\n', 400],
    ['an oversized head', `CONNECT a:1 HTTP/1.1\r\n${'X-Pad: '.concat('a'.repeat(100)).concat('\r\n').repeat(200)}\r\n`, 431],
  ] as const)('HTTP: %s', async (_name, text, status) => {
    const answer = (await raw(httpPort(open), Buffer.from(text, 'latin1'))).toString();
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  });

  it('HTTP: a head cut short gets no answer and no crash', async () => {
    expect((await raw(httpPort(open), 'CONNECT a:1 HTTP/1.1\r\n', { end: true })).length).toBe(0);
  });

  it('an HTTP client at the SOCKS port is told so', async () => {
    expect((await raw(socksPort(open), 'GET http://x/ HTTP/1.1\r\n\r\n')).toString()).toMatch(/^HTTP\/1\.1 400 [^]*is a SOCKS proxy/);
  });

});
