// --proxy-header end to end through bin/burrow with Node peers that record every request head: the headers reach
// the proxy with CONNECT (connect) and with plain-HTTP requests relayed to an upstream proxy (forward --http), a
// User-Agent among them replaces burrow's (and the client's), a credential-like value never shows in a -vv log, and a
// line break is refused before anything is sent. (Real squid that admits only browsers: test/interop/proxy-headers.test.ts.)
import { describe, expect, it } from 'vitest';
import { connectLocal, exchange, startForward } from '../helpers/burrow-forward.ts';
import { startConnectProxy, startEchoServer, startForwardProxy, startHttpServer } from '../helpers/node-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();
const SECRET = 's3cr3t-api-key-value';
const HEADERS = ['--proxy-header', 'User-Agent: Mozilla/5.0 (X11; Linux x86_64)', '--proxy-header', `X-Api-Key: ${SECRET}`];

describe('--proxy-header', () => {
  it('goes with CONNECT, replaces burrow\'s User-Agent, and its credential-like value is not logged', async () => {
    const proxy = await track(startConnectProxy());
    const target = await track(startEchoServer());
    const result = await runBurrow(['connect', '-vv', '-x', proxy.url, ...HEADERS, '127.0.0.1', String(target.port)], { input: 'headers' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe('headers');
    const seen = proxy.requests[0]!.headers;
    expect(seen['user-agent']).toBe('Mozilla/5.0 (X11; Linux x86_64)');
    expect(seen['x-api-key']).toBe(SECRET);
    expect(result.stderr).toMatch(/extra proxy request headers .*User-Agent: Mozilla\/5\.0 \(X11; Linux x86_64\), X-Api-Key: \*\*\*/);
    expect(result.stderr).not.toContain(SECRET);
  });

  it('goes with plain-HTTP requests relayed to an upstream proxy (forward --http), replacing the client\'s', async () => {
    const web = await track(startHttpServer());
    const upstream = await track(startForwardProxy());
    const forward = await startForward(['-vv', '-x', `http://127.0.0.1:${upstream.port}`, ...HEADERS, '--http', '0'], { env: cleanEnv(), listeners: 1 });
    try {
      const socket = await connectLocal(forward.ports[0]!);
      const { data } = await exchange(socket, `GET http://127.0.0.1:${web.port}/plain HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\nUser-Agent: curl/8.0\r\n\r\n`, { keepOpen: true, timeoutMs: 10_000 });
      socket.destroy();
      expect(data.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*hello \/plain$/);
      const seen = upstream.requests.find((r) => r.url.endsWith('/plain'))!;
      expect(seen.headers['user-agent']).toBe('Mozilla/5.0 (X11; Linux x86_64)');
      expect(seen.headers['x-api-key']).toBe(SECRET);
    } finally {
      await forward.stop('SIGTERM');
    }
    expect(forward.stderr()).not.toContain(SECRET);
  });

  it('a line break in a value is refused (exit 2) before anything is sent', async () => {
    const proxy = await track(startConnectProxy());
    const result = await runBurrow(['connect', '-x', proxy.url, '--proxy-header', 'User-Agent: x\r\nX-Injected: 1', '127.0.0.1', '22'], { input: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^burrow: --proxy-header: the value of User-Agent contains a line break/);
    expect(proxy.connections).toBe(0);
  });
});
