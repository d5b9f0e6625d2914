import { describe, expect, it } from 'vitest';
import { takeBody, type BodyState } from '../../src/dial/http-framing.ts';
import { oneRequestFilter, requestBody } from '../../src/relay/request-body.ts';

const NEXT = 'GET http://x/two HTTP/1.1\r\nProxy-Authorization: Basic c2VjcmV0\r\n\r\n';

describe('requestBody', () => {
  it.each([
    ['no body headers', [], { kind: 'done' }],
    ['Content-Length: 0', [['Content-Length', '0']], { kind: 'done' }],
    ['Content-Length: 5', [['content-length', '5']], { kind: 'length', remaining: 5 }],
    ['the same length twice', [['Content-Length', '5, 5']], { kind: 'length', remaining: 5 }],
    ['chunked', [['Transfer-Encoding', 'gzip, Chunked']], { kind: 'chunk-size', line: '' }],
    ['chunked wins over a length', [['Content-Length', '3'], ['Transfer-Encoding', 'chunked']], { kind: 'chunk-size', line: '' }],
    ['two lengths', [['Content-Length', '5'], ['Content-Length', '6']], { error: 'bad Content-Length "5, 6"' }],
    ['a length that is not a number', [['Content-Length', '-1']], { error: 'bad Content-Length "-1"' }],
    ['an encoding that is not chunked', [['Transfer-Encoding', 'gzip']], { error: 'Transfer-Encoding "gzip" does not end with chunked' }],
  ] as Array<[string, Array<[string, string]>, unknown]>)('%s', (_name, headers, expected) => {
    expect(requestBody(headers)).toEqual(expected);
  });
});

describe('oneRequestFilter: the bytes of one request pass, what follows is dropped', () => {
  it.each([
    ['no body', { kind: 'done' }, [NEXT], ''],
    ['a length, in one piece', { kind: 'length', remaining: 5 }, [`hello${NEXT}`], 'hello'],
    ['a length, split', { kind: 'length', remaining: 5 }, ['he', 'l', `lo${NEXT}`, NEXT], 'hello'],
    ['chunked', { kind: 'chunk-size', line: '' }, [`5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n${NEXT}`], '5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n'],
    ['chunked, byte by byte', { kind: 'chunk-size', line: '' }, [...`a\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n${NEXT}`], 'a\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n'],
    ['chunked, bare LF line ends', { kind: 'chunk-size', line: '' }, [`2\nhi\n0\n\n${NEXT}`], '2\nhi\n0\n\n'],
    // A malformed framing line is never forwarded: the origin sees the body cut before it.
    ['a bad chunk size ends it, unsent', { kind: 'chunk-size', line: '' }, [`zz\r\nhello${NEXT}`], ''],
    ['a bad chunk size split over reads, unsent', { kind: 'chunk-size', line: '' }, ['z', 'z', `\r\nhello${NEXT}`], ''],
    ['a bad second chunk size, unsent', { kind: 'chunk-size', line: '' }, ['2\r\nhi\r\n', '-1\r\n', NEXT], '2\r\nhi\r\n'],
    ['chunk data without its CRLF ends it', { kind: 'chunk-size', line: '' }, [`2\r\nhiXX\r\n${NEXT}`], '2\r\nhi'],
  ] as Array<[string, BodyState, string[], string]>)('%s', (_name, state, chunks, expected) => {
    const filter = oneRequestFilter(state);
    const passed = chunks.map((c) => filter(Buffer.from(c, 'latin1')).toString('latin1')).join('');
    expect(passed).toBe(expected);
  });

  it('a chunk-size line without an end is bounded', () => {
    const { take, state } = takeBody({ kind: 'chunk-size', line: '' }, Buffer.alloc(5000, 0x31));
    expect(state).toEqual({ kind: 'invalid', reason: 'a chunk-size or trailer line is too long' });
    expect(take).toBe(0);
  });

  it('hands over the data of a chunked body, split anywhere, and says where the message ends', () => {
    const body = Buffer.from('5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT');
    for (let cut = 1; cut < body.length; cut++) {
      const data: Buffer[] = [];
      const first = takeBody({ kind: 'chunk-size', line: '' }, body.subarray(0, cut), (d) => data.push(d));
      const second = takeBody(first.state, body.subarray(cut), (d) => data.push(d));
      expect(Buffer.concat(data).toString()).toBe('hello, world');
      expect(second.state).toEqual({ kind: 'done' });
      expect(first.take + second.take).toBe(body.length - 'NEXT'.length);
    }
  });

  it('a malformed chunk-size line is invalid, not the end of the message', () => {
    expect(takeBody({ kind: 'chunk-size', line: '' }, Buffer.from('zz\r\n')).state).toEqual({ kind: 'invalid', reason: 'a malformed chunk-size line' });
  });
});
