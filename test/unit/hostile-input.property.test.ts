// Property-based tests (fast-check) for every parser that reads input an attacker, a broken proxy or a careless
// config can shape. Invariants: no exception except burrow's own typed errors, bounded buffers, no CR/LF (or other
// control character) reaches the wire, and round trips where a format has a writer. The table tests beside each
// module remain the specification; these look for the inputs nobody thought of.
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildConnectRequest } from '../../src/dial/http-connect.ts';
import { drainBody } from '../../src/dial/http-body.ts';
import { MAX_HEADER_BYTES, parseConnectResponse, type ConnectResponse } from '../../src/dial/parse-connect-response.ts';
import { isBurrowError } from '../../src/errors.ts';
import { createByteReader, ReadError } from '../../src/relay/byte-reader.ts';
import { parseLocalForward, parseListenSpec } from '../../src/relay/forward-spec.ts';
import { oneRequestFilter } from '../../src/relay/request-body.ts';
import { socksHandshake } from '../../src/relay/socks-server.ts';
import { buildForwardHead, parseProxyRequestHead } from '../../src/relay/http-proxy-request.ts';
import { parseConfig } from '../../src/route/config.ts';
import { matchNoProxy, parseNoProxy } from '../../src/route/no-proxy.ts';
import { parsePacAnswer } from '../../src/route/pac-result.ts';
import { displayProxy, parseProxyUrl } from '../../src/route/proxy-url.ts';
import { formatHostPort } from '../../src/route/target.ts';

const RUNS = { numRuns: 300 };

/** Runs `parse`; a thrown error must be one of burrow's own (typed, with an exit code), never a crash. */
function onlyBurrowErrors<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!isBurrowError(error)) throw error;
    return undefined;
  }
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 200 });
// Names only (a label starts with a letter): "0" or "1.2.3.4" would be read as addresses, which is right but another property.
const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const port = fc.integer({ min: 1, max: 65535 });

describe('the CONNECT answer parser', () => {
  it('never throws on arbitrary bytes, and a complete head never claims more bytes than it was given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        const result = parseConnectResponse(buffer);
        if (result.kind === 'complete') {
          expect(result.response.headLength).toBeLessThanOrEqual(buffer.length);
          expect(result.response.statusCode).toBeGreaterThanOrEqual(100);
        }
      }),
      RUNS,
    );
  });

  it('round trip: status, headers and every byte behind the head (the tunnel) come back, whatever the split', () => {
    const headerLine = fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/));
    fc.assert(
      fc.property(
        fc.constantFrom('1.0', '1.1'),
        fc.integer({ min: 100, max: 599 }),
        fc.array(headerLine, { maxLength: 8 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        (version, status, headers, tail, cut) => {
          const head = `HTTP/${version} ${status} Reason\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
          const whole = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(tail)]);
          // Fed in two parts, like two packets: the first part alone is incomplete or already the whole head.
          const first = parseConnectResponse(whole.subarray(0, cut % (whole.length + 1)));
          expect(first.kind).not.toBe('invalid');
          const result = parseConnectResponse(whole);
          expect(result.kind).toBe('complete');
          const response = (result as { response: ConnectResponse }).response;
          expect(response.statusCode).toBe(status);
          expect(response.headers).toHaveLength(headers.length);
          expect(whole.subarray(response.headLength).equals(Buffer.from(tail))).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('bounded: a head that never ends is invalid once it passes the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4096 }), (extra) => {
        const endless = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n'), Buffer.alloc(MAX_HEADER_BYTES + extra, 0x61)]);
        expect(parseConnectResponse(endless).kind).toBe('invalid');
      }),
      { numRuns: 20 },
    );
  });
});

describe('the CONNECT request writer', () => {
  it('never puts a control character on the wire: a hostile host or credential is refused with a typed error', () => {
    fc.assert(
      fc.property(latin1, port, fc.option(latin1, { nil: undefined }), (host, p, authorization) => {
        const request = onlyBurrowErrors(() => buildConnectRequest({ host, port: p }, authorization));
        if (request === undefined) return;
        const lines = request.slice(0, -4).split('\r\n');
        for (const line of lines) expect(line).not.toMatch(CONTROL);
        expect(request.endsWith('\r\n\r\n')).toBe(true);
      }),
      RUNS,
    );
  });
});

describe("the local HTTP proxy's request parser", () => {
  it('never throws; an accepted request is rewritten with no CR or LF inside a line', () => {
    const requestLine = fc.oneof(
      latin1,
      fc.tuple(fc.constantFrom('GET', 'CONNECT', 'POST', 'G ET'), latin1, fc.constantFrom('1.0', '1.1', '2')).map(([m, t, v]) => `${m} ${t} HTTP/${v}`),
      fc.tuple(hostName, port).map(([h, p]) => `GET http://${h}:${p}/x HTTP/1.1`),
      fc.tuple(hostName, port).map(([h, p]) => `CONNECT ${h}:${p} HTTP/1.1`),
    );
    fc.assert(
      fc.property(requestLine, fc.array(latin1, { maxLength: 6 }), (line, headers) => {
        const head = `${[line, ...headers].join('\r\n')}\r\n\r\n`;
        const parsed = parseProxyRequestHead(head);
        if (!parsed.ok) {
          expect(parsed.status).toBeGreaterThanOrEqual(400);
          return;
        }
        const request = parsed.request;
        if (request.kind === 'connect') {
          expect(request.authority).not.toMatch(/[\s\u0000-\u001f\u007f]/);
          return;
        }
        const rewritten = buildForwardHead(request, undefined);
        const lines = rewritten.slice(0, -4).split('\r\n');
        for (const l of lines) expect(l).not.toMatch(/[\r\n]/);
      }),
      RUNS,
    );
  });
});

describe("the local SOCKS server's handshake", () => {
  // Hostile clients: random bytes, and well-formed prefixes (SOCKS5 greeting, SOCKS4 header) followed by noise.
  const client = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 260 })).map(([a, b]) => Uint8Array.from([5, 1, 0, 5, 1, 0, ...a, ...b])),
    fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 260 })).map(([a, b]) => Uint8Array.from([4, 1, 0, 22, 0, 0, 0, 1, ...a, 0, ...b])),
  );

  it('ends with a target, a refusal or a read error (never another exception), writing only short answers', async () => {
    await fc.assert(
      fc.asyncProperty(client, fc.boolean(), async (bytes, withAuth) => {
        const socket = new PassThrough();
        const reader = createByteReader(socket, 5000);
        const written: Buffer[] = [];
        socket.end(Buffer.from(bytes));
        const policy = {
          clientAllowed: true,
          checkCredentials: (user: string, password: string) => user === 'u' && password === 'p',
          ...(withAuth ? { auth: { user: 'u', password: 'p' } } : {}),
        };
        try {
          const outcome = await socksHandshake(reader, (data) => written.push(data), policy);
          if (outcome.kind === 'connect') {
            expect(outcome.target.port).toBeGreaterThanOrEqual(0);
            expect(outcome.target.host).not.toMatch(/[\s\u0000-\u001f\u007f]/);
          }
        } catch (error) {
          if (!(error instanceof ReadError) && !isBurrowError(error)) throw error;
        } finally {
          reader.release();
        }
        for (const answer of written) expect(answer.length).toBeLessThanOrEqual(16);
      }),
      { numRuns: 200 },
    );
  });
});

describe('chunked decoding of a 407 body', () => {
  const response = (chunked: boolean): ConnectResponse => ({
    httpVersion: '1.1',
    statusCode: 407,
    reason: 'Proxy Authentication Required',
    statusLine: 'HTTP/1.1 407 Proxy Authentication Required',
    headers: chunked ? [['transfer-encoding', 'chunked']] : [],
    headLength: 0,
  });
  const drain = async (bytes: Buffer): Promise<Buffer | 'rejected'> => {
    const stream = new PassThrough();
    const done = drainBody(stream, response(true), Buffer.alloc(0)).catch((error: unknown) => {
      if (!isBurrowError(error)) throw error;
      return 'rejected' as const;
    });
    stream.end(bytes);
    return done;
  };

  it('round trip: any chunking of a body is consumed exactly, and the bytes behind it are handed back', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 6 }), fc.uint8Array({ maxLength: 64 }), async (chunks, after) => {
        const body = Buffer.concat([
          ...chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), Buffer.from(c), Buffer.from('\r\n')]),
          Buffer.from('0\r\n\r\n'),
        ]);
        const rest = await drain(Buffer.concat([body, Buffer.from(after)]));
        expect(rest).not.toBe('rejected');
        expect((rest as Buffer).equals(Buffer.from(after))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('hostile bytes: resolves or fails with a typed error once the stream ends, never throws or hangs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        await drain(Buffer.from(bytes));
      }),
      { numRuns: 150 },
    );
  });
});

describe("the local HTTP proxy's request body filter", () => {
  const NEXT = 'GET http://x/two HTTP/1.1\r\nProxy-Authorization: Basic c2VjcmV0\r\n\r\n';
  const splits = (bytes: Buffer, cuts: number[]): Buffer[] => {
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    return [...points, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : points[i - 1]!, end));
  };
  const run = (bytes: Buffer, cuts: number[]): string => {
    const filter = oneRequestFilter({ kind: 'chunk-size', line: '' });
    return splits(bytes, cuts).map((part) => filter(part).toString('latin1')).join('');
  };

  it('round trip: a chunked body passes exactly, however the reads split it; what follows never does', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (chunks, cuts) => {
        const body = `${chunks.map((c) => `${Buffer.byteLength(c, 'latin1').toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`;
        expect(run(Buffer.from(body + NEXT, 'latin1'), cuts)).toBe(body);
      }),
      RUNS,
    );
  });

  it('a malformed chunk-size line never passes, however the reads split it', () => {
    const badSize = fc.stringMatching(/^[^0-9a-fA-F\r\n][ -~]{0,10}$/);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), badSize, fc.array(fc.nat(), { maxLength: 6 }), (good, bad, cuts) => {
        const first = `${Buffer.byteLength(good, 'latin1').toString(16)}\r\n${good}\r\n`;
        expect(run(Buffer.from(`${first}${bad}\r\n${NEXT}`, 'latin1'), cuts)).toBe(first);
      }),
      RUNS,
    );
  });
});

describe('forward specs', () => {
  it('never throw anything but a usage error', () => {
    fc.assert(
      fc.property(latin1, (text) => {
        onlyBurrowErrors(() => parseLocalForward(text));
        onlyBurrowErrors(() => parseListenSpec(text));
      }),
      RUNS,
    );
  });

  it('round trip: [BIND:]PORT:HOST:HOSTPORT, IPv6 in brackets', () => {
    const host = fc.oneof(hostName, fc.ipV4(), fc.ipV6().map((a) => `[${a}]`));
    fc.assert(
      fc.property(fc.option(host, { nil: undefined }), fc.integer({ min: 0, max: 65535 }), host, port, (bind, listenPort, target, targetPort) => {
        const text = `${bind === undefined ? '' : `${bind}:`}${listenPort}:${target}:${targetPort}`;
        const spec = parseLocalForward(text);
        expect(spec.listen.port).toBe(listenPort);
        expect(spec.target.port).toBe(targetPort);
        expect(formatHostPort(spec.target.host, spec.target.port).toLowerCase()).toBe(`${target}:${targetPort}`.toLowerCase().replace(/^\[(.*)\]/, (_, a: string) => `[${a}]`));
      }),
      RUNS,
    );
  });
});

describe('NO_PROXY', () => {
  it('never throws, for any list and any host', () => {
    fc.assert(
      fc.property(latin1, latin1, port, (list, host, p) => {
        matchNoProxy(parseNoProxy(list), host, p);
      }),
      RUNS,
    );
  });

  it('a host listed by name is exempt, and so are its subdomains (Go rules)', () => {
    fc.assert(
      fc.property(fc.array(hostName, { maxLength: 3 }), hostName, label, port, (others, host, sub, p) => {
        const list = parseNoProxy([...others, host].join(','));
        expect(matchNoProxy(list, host, p)).toBeDefined();
        expect(matchNoProxy(list, `${sub}.${host}`, p)).toBeDefined();
      }),
      RUNS,
    );
  });
});

describe('proxy URLs', () => {
  it('never throw anything but a usage error; what parses is displayable without its credentials', () => {
    fc.assert(
      fc.property(fc.oneof(latin1, fc.webUrl(), fc.tuple(fc.constantFrom('http', 'socks5h', 'ftp', ''), latin1).map(([s, r]) => `${s}://${r}`)), (text) => {
        const proxy = onlyBurrowErrors(() => parseProxyUrl(text));
        if (!proxy) return;
        expect(proxy.port).toBeGreaterThan(0);
        expect(proxy.host).not.toMatch(/[\s\u0000-\u001f\u007f/@]/);
        if (proxy.password) expect(displayProxy(proxy)).not.toContain(proxy.password);
      }),
      RUNS,
    );
  });

  it('round trip: scheme, host, port and percent-encoded user and password', () => {
    const secret = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !CONTROL.test(s));
    fc.assert(
      fc.property(fc.constantFrom('http', 'https', 'socks4a', 'socks5', 'socks5h'), hostName, port, secret, secret, (scheme, host, p, user, password) => {
        const proxy = parseProxyUrl(`${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${p}`);
        expect(proxy).toMatchObject({ scheme, host, port: p, username: user, password });
        expect(displayProxy(proxy)).toBe(`${scheme}://${host}:${p}`);
      }),
      RUNS,
    );
  });
});

describe('PAC answers', () => {
  it('never throw anything but a typed error; every proxy entry has a sane host and port', () => {
    const entry = fc.oneof(
      latin1,
      fc.tuple(fc.constantFrom('PROXY', 'SOCKS', 'SOCKS5', 'HTTPS', 'DIRECT', 'proxy'), fc.oneof(latin1, fc.tuple(hostName, port).map(([h, p]) => `${h}:${p}`))).map(([k, v]) => `${k} ${v}`),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (entries) => {
        const answer = onlyBurrowErrors(() => parsePacAnswer(entries.join('; ')));
        for (const e of answer?.entries ?? []) {
          if (e.kind === 'proxy') {
            expect(e.port).toBeGreaterThan(0);
            expect(e.host).not.toMatch(/[\s\u0000-\u001f\u007f]/);
          }
        }
      }),
      RUNS,
    );
  });
});

describe('the config file', () => {
  it('never throws anything but a usage error (with the file named), for any YAML-ish text', () => {
    const yamlish = fc.oneof(
      latin1,
      fc.array(fc.tuple(fc.constantFrom('proxies', 'rules', 'default', 'timeouts', 'credentials', '  - host', '  via', '    url', 'x'), fc.constantFrom(':', ': ', ': [', ': {', ':\n  '), latin1), { maxLength: 6 }).map((lines) =>
        lines.map(([k, s, v]) => `${k}${s}${v}`).join('\n'),
      ),
    );
    fc.assert(
      fc.property(yamlish, (text) => {
        onlyBurrowErrors(() => parseConfig(text, '/tmp/config.yaml'));
      }),
      RUNS,
    );
  });
});
