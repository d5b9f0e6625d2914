// Non-ASCII host names reach proxies in their IDNA (punycode) form, as Go's net/http and curl send them: in the
// CONNECT line and Host header, and in a SOCKS5 request; a name without an IDNA form is refused before any dial.
import { describe, expect, it } from 'vitest';
import { startConnectProxy, startSocks5Server } from '../helpers/node-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();

describe('international host names', () => {
  it('CONNECT carries the IDNA form, in the request line and in Host', async () => {
    const proxy = await track(startConnectProxy());
    await runBurrow(['connect', '-x', `http://127.0.0.1:${proxy.port}`, 'bücher.example', '22', '--connect-timeout', '2'], { input: '' });
    expect(proxy.requests[0]?.requestLine).toBe('CONNECT xn--bcher-kva.example:22 HTTP/1.1');
    expect(proxy.requests[0]?.headers.host).toBe('xn--bcher-kva.example:22');
  });

  it('a SOCKS5 request carries the IDNA form', async () => {
    const proxy = await track(startSocks5Server());
    await runBurrow(['connect', '-x', `socks5h://127.0.0.1:${proxy.port}`, 'bücher.example', '22', '--connect-timeout', '2'], { input: '' });
    expect(proxy.requests).toEqual(['domain xn--bcher-kva.example']);
  });

  it('a name with no IDNA form is refused before anything is dialed (exit 2)', async () => {
    const proxy = await track(startConnectProxy());
    const result = await runBurrow(['connect', '-x', `http://127.0.0.1:${proxy.port}`, 'xn--ä.example', '22'], { input: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^burrow: the host name "xn--ä\.example" is not a valid international domain name/);
    expect(proxy.connections).toBe(0);
  });

  it('a proxy URL whose host is not a name is a usage error naming it (exit 2); such a NO_PROXY entry is a warning', async () => {
    const bad = await runBurrow(['route', '-x', 'socks5://xn--ä.example:1080', 'h.example', '22'], { input: '' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^burrow: --proxy has the host "xn--ä\.example", which is not a valid host name; hint: /);
    const route = await runBurrow(['route', '--json', 'xn--bcher-kva.example', '22'], { env: cleanEnv({ HTTPS_PROXY: 'http://p.corp:3128', NO_PROXY: 'xn--ä.example,a..b' }), input: '' });
    expect(route.code).toBe(0);
    const plan = JSON.parse(route.stdout.toString()) as { plan: Array<{ source: string }>; warnings: string[] };
    expect(plan.plan.map((p) => p.source)).toEqual(['HTTPS_PROXY']);
    expect(plan.warnings).toEqual(['NO_PROXY entry "xn--ä.example" is not a valid host name and is ignored', 'NO_PROXY entry "a..b" is not a valid host name and is ignored']);
  });
});
