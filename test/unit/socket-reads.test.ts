import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { headReadSize } from '../../src/dial/socket-reads.ts';
import { parseConnectResponse } from '../../src/dial/parse-connect-response.ts';

describe('headReadSize: never reads past the end of an HTTP head', () => {
  it.each([
    ['', 2],
    ['HTTP/1.1 200 OK', 2],
    ['HTTP/1.1 200 OK\r', 2],
    ['HTTP/1.1 200 OK\r\n', 1],
    ['HTTP/1.1 200 OK\r\n\r', 1],
    ['HTTP/1.1 200 OK\n', 1],
    ['HTTP/1.1 200 OK\nVia: x\r', 2],
  ])('after %j: %i', (received, expected) => {
    expect(headReadSize(Buffer.from(received, 'latin1'))).toBe(expected);
  });

  // Feeds heads (CRLF, bare LF, mixed) followed by tunnel bytes the way bounded reads do: each read takes
  // headReadSize() bytes. The parser must complete exactly at the head's end, with no tunnel byte taken.
  it('reading heads in bounded steps stops exactly at the blank line (200 random heads)', () => {
    const ends = ['\r\n', '\n'];
    for (let round = 0; round < 200; round++) {
      const eol = () => ends[Math.floor(Math.random() * ends.length)]!;
      const headers = Array.from({ length: Math.floor(Math.random() * 4) }, (_, i) => `X-${i}: ${randomBytes(3).toString('hex')}${eol()}`).join('');
      const head = `HTTP/1.1 200 Connection established${eol()}${headers}${eol()}`;
      const stream = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from('SSH-2.0-OpenSSH_9\r\n')]);
      let received = Buffer.alloc(0);
      for (;;) {
        const size = headReadSize(received);
        received = Buffer.concat([received, stream.subarray(received.length, received.length + size)]);
        const result = parseConnectResponse(received);
        if (result.kind === 'complete') {
          expect(result.response.headLength, JSON.stringify(head)).toBe(received.length);
          break;
        }
        expect(result.kind, JSON.stringify(head)).toBe('incomplete');
        expect(received.length, JSON.stringify(head)).toBeLessThan(head.length);
      }
    }
  });
});
