import { describe, expect, it } from 'vitest';
import { BurrowError } from '../../src/errors.ts';
import { isLoopbackAddress, parseListenSpec, parseLocalForward, splitFields } from '../../src/relay/forward-spec.ts';
import { buildForwardHead, httpStatusFor, parseAuthority, parseProxyRequestHead } from '../../src/relay/http-proxy-request.ts';
import { SOCKS5, socks5CodeFor } from '../../src/relay/socks-server.ts';

function usage(fn: () => unknown): BurrowError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BurrowError);
    expect((error as BurrowError).kind).toBe('usage');
    return error as BurrowError;
  }
  throw new Error('expected a usage error, nothing was thrown');
}

// ssh(1)'s -L syntax: [bind_address:]port:host:hostport, IPv6 in brackets, "*" or empty bind = every interface.
const goodForwards: Array<[spec: string, bindHost: string, bindPort: number, host: string, port: number]> = [
  ['2222:jump.ecmwf.int:22', '127.0.0.1', 2222, 'jump.ecmwf.int', 22],
  ['8443:jump.ecmwf.int:443', '127.0.0.1', 8443, 'jump.ecmwf.int', 443],
  ['0:localhost:22', '127.0.0.1', 0, 'localhost', 22],
  ['127.0.0.2:2222:host:22', '127.0.0.2', 2222, 'host', 22],
  ['localhost:2222:host:22', 'localhost', 2222, 'host', 22],
  ['0.0.0.0:2222:host:22', '0.0.0.0', 2222, 'host', 22],
  ['*:2222:host:22', '0.0.0.0', 2222, 'host', 22],
  [':2222:host:22', '0.0.0.0', 2222, 'host', 22],
  ['[::1]:2222:host:22', '::1', 2222, 'host', 22],
  ['2222:[2001:db8::1]:22', '127.0.0.1', 2222, '2001:db8::1', 22],
  ['[::1]:2222:[::1]:22', '::1', 2222, '::1', 22],
  ['2222:192.0.2.7:65535', '127.0.0.1', 2222, '192.0.2.7', 65535],
  [' 2222:host:22 ', '127.0.0.1', 2222, 'host', 22],
];

const badForwards: Array<[spec: string, because: RegExp]> = [
  ['2222', /not \[BIND:\]PORT:HOST:HOSTPORT/],
  ['2222:host', /not \[BIND:\]PORT:HOST:HOSTPORT/],
  ['2222:2001:db8::1:22', /not \[BIND:\]PORT/],
  ['a:b:c:d:e', /not \[BIND:\]PORT/],
  ['x:host:22', /not a port number/],
  ['70000:host:22', /outside 0-65535/],
  ['2222:host:0', /outside 1-65535/],
  ['2222:host:ssh', /not a number/],
  ['2222::22', /no target host/],
  ['2222:[host]:22', /bracketed but is not an IPv6/],
  ['[host]:2222:h:22', /bracketed but is not an IPv6/],
  ['2222:[::1:22', /without its "\]"/],
  ['2222:::1]:22', /without its "\["/],
  ['2222:ho st:22', /space, a control character/],
  ['2222:host\r\nX: y:22', /./],
  ['2222:host\r\nX:22', /space, a control character/],
  ['bad host:2222:h:22', /space, a control character/],
];

describe('-L [BIND:]PORT:HOST:HOSTPORT', () => {
  it.each(goodForwards)('%j', (spec, bindHost, bindPort, host, port) => {
    const parsed = parseLocalForward(spec);
    expect(parsed.listen).toEqual({ host: bindHost, port: bindPort });
    expect(parsed.target).toEqual({ host, port });
  });
  it.each(badForwards)('refuses %j', (spec, because) => {
    expect(usage(() => parseLocalForward(spec)).message).toMatch(because);
  });
  it('hints at brackets when an IPv6 target is written bare', () => {
    expect(usage(() => parseLocalForward('2222:2001:db8::1:22')).hint).toMatch(/brackets/);
  });
});

describe('-D / --http [BIND:]PORT', () => {
  it.each([
    ['1080', '127.0.0.1', 1080],
    ['0', '127.0.0.1', 0],
    ['127.0.0.1:3128', '127.0.0.1', 3128],
    ['[::1]:1080', '::1', 1080],
    ['*:1080', '0.0.0.0', 1080],
    [':1080', '0.0.0.0', 1080],
    ['192.0.2.1:1080', '192.0.2.1', 1080],
  ] as const)('%j', (spec, host, port) => {
    expect(parseListenSpec(spec).listen).toEqual({ host, port });
  });
  it.each(['', 'abc', '65536', '::1:1080', '1:2:3', '-1', '[x]:1080'])('refuses %j', (spec) => {
    usage(() => parseListenSpec(spec, '--http'));
  });
});

describe('splitFields and loopback', () => {
  it('keeps brackets together', () => {
    expect(splitFields('[::1]:22:[fe80::1]:80')).toEqual(['[::1]', '22', '[fe80::1]', '80']);
  });
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.0.2.1', false],
    ['example.org', false],
  ] as const)('%s loopback: %s', (host, loopback) => {
    expect(isLoopbackAddress(host)).toBe(loopback);
  });
});

const head = (...lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

describe('the local HTTP proxy request parser', () => {
  it.each([
    [head('CONNECT example.org:443 HTTP/1.1', 'Host: example.org:443'), 'example.org', 443],
    [head('CONNECT [2001:db8::1]:22 HTTP/1.1'), '2001:db8::1', 22],
    [head('CONNECT 192.0.2.1:22 HTTP/1.0'), '192.0.2.1', 22],
  ] as const)('CONNECT %j', (text, host, port) => {
    const parsed = parseProxyRequestHead(text);
    expect(parsed.ok && parsed.request.kind === 'connect' && parsed.request.target).toEqual({ host, port });
  });

  it('absolute-form GET with its headers', () => {
    const parsed = parseProxyRequestHead(head('GET http://example.org:8080/a?b=c HTTP/1.1', 'Host: example.org:8080', 'Accept: */*'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || parsed.request.kind !== 'forward') return;
    expect(parsed.request.target).toEqual({ host: 'example.org', port: 8080 });
    expect(parsed.request.url.pathname + parsed.request.url.search).toBe('/a?b=c');
  });

  it.each([
    ['no blank line', 'CONNECT a:1 HTTP/1.1\r\n', 400],
    ['HTTP/2', head('CONNECT a:1 HTTP/2.0'), 400],
    ['no port', head('CONNECT example.org HTTP/1.1'), 400],
    ['port 0', head('CONNECT example.org:0 HTTP/1.1'), 400],
    ['CR inside the target', 'CONNECT a\r:1 HTTP/1.1\r\n\r\n', 400],
    ['LF inside the target', 'CONNECT evil.example:22\nX-Injected: 1 HTTP/1.1\r\n\r\n', 400],
    ['unbracketed IPv6', head('CONNECT ::1:22 HTTP/1.1'), 400],
    ['control character in target', head('CONNECT a\u0001b:1 HTTP/1.1'), 400],
    ['a bad header name', head('CONNECT a:1 HTTP/1.1', 'Bad Header: x'), 400],
    ['folded header', head('CONNECT a:1 HTTP/1.1', 'X: a', ' b'), 400],
    ['control character in a header', head('CONNECT a:1 HTTP/1.1', 'X: a\u0000b'), 400],
    ['origin-form GET', head('GET / HTTP/1.1', 'Host: a'), 400],
    ['https:// absolute-form', head('GET https://a/ HTTP/1.1'), 400],
    ['ftp:// absolute-form', head('GET ftp://a/ HTTP/1.1'), 501],
    ['credentials in the URL', head('GET http://u:p@a/ HTTP/1.1'), 400],
    ['not HTTP at all', head('\u0016\u0003\u0001garbage'), 400],
    ['bracketed non-IPv6', head('CONNECT [example.org]:22 HTTP/1.1'), 400],
  ] as const)('refuses %s', (_name, text, status) => {
    const parsed = parseProxyRequestHead(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.status).toBe(status);
  });

  it('parseAuthority takes the last colon for names and brackets for IPv6', () => {
    expect(parseAuthority('a.example:22')).toEqual({ host: 'a.example', port: 22 });
    expect(parseAuthority('[::1]:22')).toEqual({ host: '::1', port: 22 });
    expect(typeof parseAuthority('::1:22')).toBe('string');
  });
});

describe('plain HTTP heads', () => {
  const parsed = parseProxyRequestHead(
    head('GET http://example.org/x?y HTTP/1.1', 'Host: example.org', 'Proxy-Authorization: Basic bG9jYWw6c2VjcmV0', 'Proxy-Connection: keep-alive', 'Connection: keep-alive, X-Hop', 'X-Hop: 1', 'Accept: */*'),
  );
  if (!parsed.ok || parsed.request.kind !== 'forward') throw new Error('fixture did not parse');
  const request = parsed.request;

  it('goes origin-form to the server, without hop-by-hop headers or the client\'s proxy credentials', () => {
    expect(buildForwardHead(request, undefined)).toBe(head('GET /x?y HTTP/1.1', 'Host: example.org', 'Accept: */*', 'Connection: close'));
  });
  it('goes absolute-form to an upstream proxy, with the upstream\'s credentials', () => {
    expect(buildForwardHead(request, { proxyAuthorization: 'Basic dXA6c3RyZWFt' })).toBe(
      head('GET http://example.org/x?y HTTP/1.1', 'Host: example.org', 'Accept: */*', 'Proxy-Authorization: Basic dXA6c3RyZWFt', 'Connection: close'),
    );
  });
});

describe('HTTP hygiene of a forwarded request', () => {
  const forward = (...lines: string[]) => {
    const parsed = parseProxyRequestHead(head(...lines));
    if (!parsed.ok || parsed.request.kind !== 'forward') throw new Error(`not a forward request: ${JSON.stringify(parsed)}`);
    return buildForwardHead(parsed.request, undefined);
  };
  it('drops Content-Length when Transfer-Encoding is present (RFC 9112 §6.3: a request smuggling vector)', () => {
    const out = forward('POST http://example.org/ HTTP/1.1', 'Host: example.org', 'Content-Length: 3', 'Transfer-Encoding: chunked');
    expect(out).toBe(head('POST / HTTP/1.1', 'Host: example.org', 'Transfer-Encoding: chunked', 'Connection: close'));
  });
  it("takes Host from the request URL, in its IDNA form, never the client's own Host line", () => {
    const out = forward('GET http://b%C3%BCcher.example:8080/ HTTP/1.1', 'Host: evil.example');
    expect(out).toBe(head('GET / HTTP/1.1', 'Host: xn--bcher-kva.example:8080', 'Connection: close'));
  });
  it('a raw non-ASCII name in a CONNECT line is refused (400), never forwarded as it came', () => {
    const utf8AsReceived = Buffer.from('CONNECT bücher.example:22 HTTP/1.1\r\n\r\n').toString('latin1');
    expect(parseProxyRequestHead(utf8AsReceived)).toMatchObject({ ok: false, status: 400 });
  });
  it('a CONNECT authority with a non-ASCII name becomes its IDNA form; a name without one is refused', () => {
    expect(parseAuthority('bücher.example:22')).toEqual({ host: 'xn--bcher-kva.example', port: 22 });
    expect(parseAuthority('xn--ä.example:22')).toMatch(/no IDNA form/);
  });
});

describe('failure codes for the local proxies', () => {
  const error = (kind: BurrowError['kind'], said?: string) => new BurrowError(kind, 'x', said === 'timeout' ? { said, timedOut: true } : said ? { said } : {});
  it.each([
    [error('refused', 'HTTP/1.1 403 Forbidden'), SOCKS5.REP_NOT_ALLOWED, 403],
    [error('auth'), SOCKS5.REP_NOT_ALLOWED, 502],
    [error('unreachable', 'ECONNREFUSED'), SOCKS5.REP_CONNECTION_REFUSED, 502],
    [error('unreachable', 'ENETUNREACH'), SOCKS5.REP_NETWORK_UNREACHABLE, 502],
    [error('unreachable', 'ENOTFOUND'), SOCKS5.REP_HOST_UNREACHABLE, 502],
    [error('unreachable', 'timeout'), SOCKS5.REP_TTL_EXPIRED, 504],
    [error('unreachable', 'ETIMEDOUT'), SOCKS5.REP_TTL_EXPIRED, 504],
    [error('usage'), SOCKS5.REP_GENERAL_FAILURE, 400],
    [error('broken'), SOCKS5.REP_GENERAL_FAILURE, 502],
  ] as const)('%s', (e, socksCode, status) => {
    expect(socks5CodeFor(e)).toBe(socksCode);
    expect(httpStatusFor(e)).toBe(status);
  });
});
