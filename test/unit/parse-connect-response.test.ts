import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, headerValues, parseConnectResponse } from '../../src/dial/parse-connect-response.ts';

const b = (text: string) => Buffer.from(text, 'latin1');

describe('parseConnectResponse: complete answers', () => {
  it.each([
    ['HTTP/1.1 200 Connection established\r\n\r\n', '1.1', 200, 'Connection established'],
    ['HTTP/1.0 200 Connection established\r\n\r\n', '1.0', 200, 'Connection established'],
    ['HTTP/1.1 200\r\n\r\n', '1.1', 200, ''],
    ['HTTP/1.1 200 \r\n\r\n', '1.1', 200, ''],
    ['HTTP/1.1 204 No Content\r\n\r\n', '1.1', 204, 'No Content'],
    ['HTTP/1.1 403 Forbidden\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n\r\n', '1.1', 403, 'Forbidden'],
    ['HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\n\r\n', '1.1', 407, 'Proxy Authentication Required'],
    ['HTTP/1.1 200 OK\n\n', '1.1', 200, 'OK'],
    ['HTTP/1.1 200 OK\nVia: x\n\n', '1.1', 200, 'OK'],
    ['HTTP/1.1\t200\tOK\r\n\r\n', '1.1', 200, 'OK'],
  ])('%j -> %s %i %j', (text, version, status, reason) => {
    const result = parseConnectResponse(b(text));
    expect(result.kind).toBe('complete');
    if (result.kind !== 'complete') return;
    expect(result.response.httpVersion).toBe(version);
    expect(result.response.statusCode).toBe(status);
    expect(result.response.reason).toBe(reason);
    expect(result.response.headLength).toBe(text.length);
  });

  it('reports the bytes behind the blank line as tunnel data (an SSH banner in the same packet)', () => {
    const head = 'HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\n';
    const result = parseConnectResponse(b(`${head}SSH-2.0-OpenSSH_9.2\r\n`));
    expect(result.kind).toBe('complete');
    if (result.kind === 'complete') expect(result.response.headLength).toBe(head.length);
  });

  it('ignores Content-Length on a 2xx CONNECT answer: the body is tunnel data', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n';
    const result = parseConnectResponse(b(`${head}abc`));
    expect(result.kind === 'complete' && result.response.headLength).toBe(head.length);
  });

  it('keeps repeated headers in order, lower-cases names and unfolds continuation lines', () => {
    const result = parseConnectResponse(b('HTTP/1.1 407 x\r\nProxy-Authenticate: Negotiate\r\nPROXY-AUTHENTICATE: NTLM\r\nProxy-Authenticate: Basic\r\n realm="corp"\r\nbroken line\r\n\r\n'));
    expect(result.kind).toBe('complete');
    if (result.kind !== 'complete') return;
    expect(headerValues(result.response, 'proxy-authenticate')).toEqual(['Negotiate', 'NTLM', 'Basic realm="corp"']);
  });
});

describe('parseConnectResponse: incomplete answers wait for more', () => {
  const full = 'HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\n';
  it.each(Array.from({ length: full.length - 1 }, (_, i) => i + 1))('the first %i bytes are incomplete', (n) => {
    expect(parseConnectResponse(b(full.slice(0, n))).kind).toBe('incomplete');
  });
  it('the empty buffer is incomplete', () => {
    expect(parseConnectResponse(Buffer.alloc(0)).kind).toBe('incomplete');
  });
});

describe('parseConnectResponse: answers that are not HTTP, or too large', () => {
  it.each([
    ['an SSH banner', 'SSH-2.0-OpenSSH_9.2p1\r\n', /SSH server/],
    ['a SOCKS5 method reply', '\u0005\u00ff', /SOCKS/],
    ['a SOCKS4 reply', '\u0000\u005b\u0000\u0000\u0000\u0000\u0000\u0000', /SOCKS/],
    ['a TLS alert', '\u0015\u0003\u0003\u0000\u0002\u0002\u0028', /TLS/],
    ['an HTML page', '<html>blocked</html>', /did not answer with HTTP/],
    ['a first byte that is already wrong', 'X', /did not answer with HTTP/],
    ['HTTP/2', 'HTTP/2 200\r\n\r\n', /malformed status line/],
    ['a status without digits', 'HTTP/1.1 OK\r\n\r\n', /malformed status line/],
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', /malformed status line/],
  ])('rejects %s', (_name, text, reason) => {
    const result = parseConnectResponse(b(text));
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.reason).toMatch(reason);
  });

  it('rejects a head longer than the limit instead of buffering without end', () => {
    const huge = `HTTP/1.1 200 OK\r\n${'X-Pad: y\r\n'.repeat(MAX_HEADER_BYTES / 10 + 10)}`;
    const result = parseConnectResponse(b(huge));
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.reason).toMatch(/more than 16384 bytes/);
  });

  it('accepts a head just under the limit', () => {
    const head = `HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(MAX_HEADER_BYTES - 100)}\r\n\r\n`;
    expect(parseConnectResponse(b(head)).kind).toBe('complete');
  });

  it('escapes control bytes of a bad status line in its reason', () => {
    const result = parseConnectResponse(b('HTTP/1.1 abc\u001b[2J\r\n\r\n'));
    expect(result.kind === 'invalid' && result.reason).toContain('\\x1b');
  });
});
