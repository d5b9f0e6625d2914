import { describe, expect, it } from 'vitest';
import { configuredProxyTexts } from '../../src/route/environment.ts';

describe('configuredProxyTexts', () => {
  it.each([
    ['nothing set', {}, {}, []],
    ['empty values count as unset', { HTTPS_PROXY: '', https_proxy: '' }, {}, []],
    ['precedence order', { HTTP_PROXY: 'http://c:3', ALL_PROXY: 'socks5://b:2', HTTPS_PROXY: 'http://a:1' }, {}, [
      { name: 'HTTPS_PROXY', texts: ['http://a:1'] },
      { name: 'ALL_PROXY', texts: ['socks5://b:2'] },
      { name: 'HTTP_PROXY', texts: ['http://c:3'] },
    ]],
    ['upper case wins', { HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1' }, {}, [{ name: 'HTTPS_PROXY', texts: ['http://up:1'] }]],
    ['lower case when upper is empty', { HTTPS_PROXY: '', https_proxy: 'http://low:1' }, {}, [{ name: 'https_proxy', texts: ['http://low:1'] }]],
    ['BURROW_PROXY names a chain', { BURROW_PROXY: 'http://a:1, socks5://b:2,,' }, {}, [{ name: 'BURROW_PROXY', texts: ['http://a:1', ' socks5://b:2'] }]],
    ['burrow_proxy too', { burrow_proxy: 'http://a:1,http://b:2' }, {}, [{ name: 'burrow_proxy', texts: ['http://a:1', 'http://b:2'] }]],
    ['a BURROW_PROXY of commas names no proxy', { BURROW_PROXY: ' , ' }, {}, [{ name: 'BURROW_PROXY', texts: [] }]],
    ['other variables are not split', { HTTPS_PROXY: 'http://a:1,http://b:2' }, {}, [{ name: 'HTTPS_PROXY', texts: ['http://a:1,http://b:2'] }]],
    ['every spelling, upper case first', { https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:1', all_proxy: 'socks5://s:2' }, { everySpelling: true }, [
      { name: 'HTTPS_PROXY', texts: ['http://up:1'] },
      { name: 'https_proxy', texts: ['http://low:1'] },
      { name: 'all_proxy', texts: ['socks5://s:2'] },
    ]],
  ])('%s', (_name, env, options, expected) => {
    expect(configuredProxyTexts(env, options)).toEqual(expected);
  });
});
