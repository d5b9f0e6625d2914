import { describe, expect, it } from 'vitest';
import { BurrowError, describeError, withDetails } from '../../src/errors.ts';

describe('withDetails', () => {
  const answer = { statusCode: 403, statusLine: 'HTTP/1.1 403 Forbidden', authSchemes: [], detail: 'ERR_ACCESS_DENIED' };
  const original = new BurrowError('refused', 'the proxy refused', { hint: 'ask', proxy: 'http://p:3128', target: 'h:22', said: '403', proxyAnswer: answer });

  it.each([
    ['an empty patch keeps everything', {}, { kind: 'refused', message: 'the proxy refused', hint: 'ask', proxy: 'http://p:3128', target: 'h:22', said: '403', proxyAnswer: answer }],
    ['a detail given replaces that detail only', { hint: 'another hint' }, { kind: 'refused', hint: 'another hint', said: '403', proxyAnswer: answer }],
    ['a detail given as undefined is removed', { proxyAnswer: undefined, said: 'timeout' }, { said: 'timeout', proxyAnswer: undefined, hint: 'ask' }],
    ['kind and message may change', { kind: 'unreachable' as const, message: 'other' }, { kind: 'unreachable', message: 'other', target: 'h:22' }],
  ])('%s', (_name, patch, expected) => {
    const copy = withDetails(original, patch);
    expect(copy).toBeInstanceOf(BurrowError);
    expect(copy).not.toBe(original);
    expect(copy).toMatchObject(expected);
    for (const [key, value] of Object.entries(expected)) expect(copy[key as keyof BurrowError]).toEqual(value);
  });

  it('carries the typed facts through a copy: phase, hop, time-out, schemes, SOCKS reply', () => {
    const facts = {
      phase: 'proxy-auth' as const,
      hop: { index: 1, endpoint: 'http://q:8080' },
      timedOut: false,
      auth: { offered: ['NTLM', 'Basic'], tried: ['Basic'] },
      socksReply: { version: 5 as const, code: 2, name: 'NotAllowed' },
    };
    const typed = new BurrowError('auth', 'no', facts);
    expect(withDetails(typed, { hint: 'h' })).toMatchObject({ ...facts, hint: 'h' });
    expect(withDetails(typed, { hop: undefined }).hop).toBeUndefined();
  });

  it('keeps the original as the cause unless the patch gives one, and leaves the original alone', () => {
    expect(withDetails(original, {}).cause).toBe(original);
    const other = new Error('root');
    expect(withDetails(original, { cause: other }).cause).toBe(other);
    expect(original.hint).toBe('ask');
    expect(describeError(withDetails(original, { hint: undefined }))).toBe('the proxy refused');
  });
});
