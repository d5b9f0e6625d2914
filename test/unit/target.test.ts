import { describe, expect, it } from 'vitest';
import { BurrowError } from '../../src/errors.ts';
import { thrown } from '../helpers/thrown.ts';
import { formatHostPort, makeTarget, parsePort, validateHost, parseHostPort } from '../../src/route/target.ts';


// Host names end up in `CONNECT host:port HTTP/1.1` and `Host:`: anything that could split or bend that line
// must be refused before it reaches the wire (REFERENCE.md §3).
const goodHosts: [raw: string, host: string][] = [
  ['example.com', 'example.com'],
  ['git.corp.example', 'git.corp.example'],
  ['localhost', 'localhost'],
  ['bastion-01', 'bastion-01'],
  ['under_score.example', 'under_score.example'],
  ['trailing.dot.example.', 'trailing.dot.example.'],
  ['192.0.2.10', '192.0.2.10'],
  ['::1', '::1'],
  ['[::1]', '::1'],
  ['2001:db8::7', '2001:db8::7'],
  ['[2001:db8::7]', '2001:db8::7'],
  ['::ffff:192.0.2.10', '::ffff:192.0.2.10'],
  ['bücher.example', 'xn--bcher-kva.example'], // IDNA, as Go and curl send it
  ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
  ['a'.repeat(255), 'a'.repeat(255)],
];

describe('validateHost accepts', () => {
  it.each(goodHosts)('%j -> %j', (raw, host) => {
    expect(validateHost(raw)).toBe(host);
  });
});

const badHosts: [why: string, raw: string][] = [
  ['empty', ''],
  ['empty brackets', '[]'],
  ['too long', 'a'.repeat(256)],
  ['CR', 'host\rX-Injected: 1'],
  ['LF', 'host\nX-Injected: 1'],
  ['CRLF', 'host\r\n\r\nGET / HTTP/1.1'],
  ['space', 'host name'],
  ['leading space', ' host'],
  ['trailing space', 'host '],
  ['tab', 'host\tname'],
  ['NUL', 'host\u0000'],
  ['ESC (terminal escape)', 'host\u001b[2J'],
  ['BEL', 'host\u0007'],
  ['DEL', 'host\u007f'],
  ['C1 control NEL', 'host\u0085name'],
  ['C1 control CSI', 'host\u009b2J'],
  ['@ (userinfo)', 'user@host'],
  ['/ (path)', 'host/path'],
  ['backslash', 'host\\path'],
  ['a non-ASCII name with no IDNA form', 'xn--ä.example'],
  ['a non-ASCII name with a forbidden code point', 'ä|b.example'],
  ['? (query)', 'host?x=1'],
  ['# (fragment)', 'host#frag'],
  ['a port glued on', 'host:22'],
  ['a port glued on an IPv4 address', '192.0.2.10:22'],
  ['a bracketed IPv6 with a port', '[::1]:22'],
  ['a colon, not IPv6', 'a:b'],
  ['unbalanced bracket', '[::1'],
  ['CR inside brackets', '[::1\r\n]'],
];

describe('validateHost rejects', () => {
  it.each(badHosts)('%s: %j', (_why, raw) => {
    const error = thrown(() => validateHost(raw));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    // The message must not carry the raw control characters to the terminal.
    // eslint-disable-next-line no-control-regex
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});

const ports: [text: string, port: number | undefined][] = [
  ['22', 22],
  ['1', 1],
  ['443', 443],
  ['65535', 65535],
  ['0022', 22],
  ['0', undefined],
  ['00000', undefined],
  ['65536', undefined],
  ['99999', undefined],
  ['100000', undefined],
  ['22a', undefined],
  ['a22', undefined],
  ['', undefined],
  [' 22', undefined],
  ['22 ', undefined],
  ['22\n', undefined],
  ['-1', undefined],
  ['+22', undefined],
  ['2.2', undefined],
  ['1e3', undefined],
  ['0x16', undefined],
  ['ssh', undefined],
  ['２２', undefined],
];

describe('parsePort', () => {
  it.each(ports)('%j -> %s', (text, port) => {
    if (port === undefined) {
      const error = thrown(() => parsePort(text));
      expect(error.kind).toBe('usage');
      expect(error.exitCode).toBe(2);
    } else {
      expect(parsePort(text)).toBe(port);
    }
  });

  it('names what it parsed in the message', () => {
    expect(thrown(() => parsePort('x', 'local port')).message).toContain('local port');
  });
});

// makeTarget takes the port as argv text or as a number.
const targets: [host: string, port: string | number, expected: { host: string; port: number } | undefined][] = [
  ['example.com', '22', { host: 'example.com', port: 22 }],
  ['example.com', 22, { host: 'example.com', port: 22 }],
  ['[::1]', '2222', { host: '::1', port: 2222 }],
  ['2001:db8::7', 443, { host: '2001:db8::7', port: 443 }],
  ['192.0.2.10', 65535, { host: '192.0.2.10', port: 65535 }],
  ['example.com', 0, undefined],
  ['example.com', 65536, undefined],
  ['example.com', -22, undefined],
  ['example.com', 22.5, undefined],
  ['example.com', Number.NaN, undefined],
  ['example.com', '0', undefined],
  ['example.com', '65536', undefined],
  ['example.com', '22a', undefined],
  ['example.com', '', undefined],
  ['exa mple.com', 22, undefined],
  ['example.com\r\n', '22', undefined],
  ['user@example.com', 22, undefined],
  ['example.com/x', 22, undefined],
];

describe('makeTarget', () => {
  it.each(targets)('%j %j', (host, port, expected) => {
    if (expected === undefined) {
      const error = thrown(() => makeTarget(host, port));
      expect(error.kind).toBe('usage');
      expect(error.exitCode).toBe(2);
    } else {
      expect(makeTarget(host, port)).toEqual(expected);
    }
  });
});

// CONNECT's request target: IPv6 literals in brackets, everything else as is.
const formatted: [host: string, port: number, text: string][] = [
  ['example.com', 22, 'example.com:22'],
  ['192.0.2.10', 80, '192.0.2.10:80'],
  ['::1', 22, '[::1]:22'],
  ['2001:db8::7', 443, '[2001:db8::7]:443'],
  ['::ffff:192.0.2.10', 22, '[::ffff:192.0.2.10]:22'],
  ['localhost', 65535, 'localhost:65535'],
];

describe('formatHostPort', () => {
  it.each(formatted)('%s %i -> %s', (host, port, text) => {
    expect(formatHostPort(host, port)).toBe(text);
  });

  it('round-trips through makeTarget', () => {
    for (const [host, port, text] of formatted) {
      const target = makeTarget(host, port);
      expect(formatHostPort(target.host, target.port)).toBe(text);
    }
  });
});

describe('parseHostPort (every host:port from outside: arguments, config, PAC, Teleport answers)', () => {
  it.each([
    ['jump.example.org:22', undefined, { host: 'jump.example.org', port: 22 }],
    ['[2001:db8::1]:3023', undefined, { host: '2001:db8::1', port: 3023 }],
    ['jump.example.org', 443, { host: 'jump.example.org', port: 443 }],
    ['[::1]', 22, { host: '::1', port: 22 }],
    ['2001:db8::1', 22, { host: '2001:db8::1', port: 22 }],
    ['  proxy.corp:3128 ', undefined, { host: 'proxy.corp', port: 3128 }],
  ])('%j (default port %s)', (text, defaultPort, expected) => {
    expect(parseHostPort(text, defaultPort)).toEqual(expected);
  });

  it.each([
    ['x HTTP/1.1\r\n\r\nCONNECT internal.corp:3023'],
    ['evil\r\nX-Injected: 1:22'],
    ['host:0'],
    ['host:65536'],
    ['host:'],
    ['host'],
    [':22'],
    ['a b:22'],
  ])('rejects %j with a usage error', (text) => {
    expect(() => parseHostPort(text)).toThrow(BurrowError);
  });
});
