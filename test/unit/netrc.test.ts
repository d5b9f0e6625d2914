import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withCredentials } from '../../src/credentials/lookup.ts';
import { netrcLookup, parseNetrc } from '../../src/credentials/netrc.ts';
import { parseProxyUrl } from '../../src/route/proxy-url.ts';

describe('parseNetrc / netrcLookup', () => {
  const text = [
    '# corporate proxies',
    'machine proxy.corp login alice password "p@ss word"',
    'machine other.corp',
    '  login bob',
    '  password s3cret # trailing comment',
    'macdef init',
    'cd /pub',
    'machine not-a-machine login mallory password x',
    '',
    'machine PROXY2.corp login carol password "with \\"quote\\""',
    'default login anon password anon@',
  ].join('\n');
  const netrc = parseNetrc(text);

  it.each([
    ['proxy.corp', 'alice', 'p@ss word'],
    ['PROXY.CORP', 'alice', 'p@ss word'],
    ['other.corp', 'bob', 's3cret'],
    ['proxy2.corp', 'carol', 'with "quote"'],
    ['unknown.corp', 'anon', 'anon@'],
    ['not-a-machine', 'anon', 'anon@'],
  ])('%s -> %s', (host, login, password) => {
    expect(netrcLookup(netrc, host)).toEqual({ login, password });
  });

  it('has no answer without a default entry', () => {
    expect(netrcLookup(parseNetrc('machine a login b password c'), 'z')).toBeUndefined();
  });
});

describe('withCredentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-netrc-'));
  const netrcFile = join(dir, 'netrc');
  writeFileSync(netrcFile, 'machine proxy.corp login alice password fromnetrc\n');

  it('keeps credentials from the URL over everything else', () => {
    const result = withCredentials(parseProxyUrl('http://u:p@proxy.corp:3128'), { NETRC: netrcFile, BURROW_PROXY_USER: 'x' });
    expect([result.proxy.username, result.proxy.password, result.source]).toEqual(['u', 'p', 'the proxy URL']);
  });

  it('takes ~/.netrc (or $NETRC) before BURROW_PROXY_USER', () => {
    const result = withCredentials(parseProxyUrl('http://proxy.corp:3128'), { NETRC: netrcFile, BURROW_PROXY_USER: 'x', BURROW_PROXY_PASSWORD: 'y' });
    expect([result.proxy.username, result.proxy.password, result.source]).toEqual(['alice', 'fromnetrc', '$NETRC']);
  });

  it('falls back to BURROW_PROXY_USER / BURROW_PROXY_PASSWORD', () => {
    const result = withCredentials(parseProxyUrl('http://elsewhere:3128'), { NETRC: netrcFile, BURROW_PROXY_USER: 'x', BURROW_PROXY_PASSWORD: 'y' });
    expect([result.proxy.username, result.proxy.password]).toEqual(['x', 'y']);
  });

  it('leaves the proxy alone when nothing is configured', () => {
    const result = withCredentials(parseProxyUrl('http://elsewhere:3128'), { NETRC: join(dir, 'missing') });
    expect(result.proxy.username).toBeUndefined();
    expect(result.source).toBeUndefined();
  });
});
