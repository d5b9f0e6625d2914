import { describe, expect, it } from 'vitest';
import { bridgeEnvironment, bridgeUrl, environmentChanges, LOOPBACK_NO_PROXY, scrubEnvironment } from '../../src/wrap/env.ts';
import { planExec, upstreamSecrets } from '../../src/wrap/exec.ts';
import { isLoopbackTarget, matchNoProxy, parseNoProxy } from '../../src/route/no-proxy.ts';

const bridge = { host: '127.0.0.1', port: 40000, user: 'burrow', password: 'BridgeToken123' };
const SECRET = 'p@ss w:rd';
const parent = {
  PATH: '/usr/bin',
  HOME: '/home/a',
  HTTPS_PROXY: `http://alice:${encodeURIComponent(SECRET)}@proxy.corp:3128`,
  http_proxy: 'http://proxy.corp:3128',
  ALL_PROXY: 'socks5h://bastion:1080',
  NO_PROXY: '.corp.example',
  BURROW_PROXY_USER: 'alice',
  BURROW_PROXY_PASSWORD: 'other-secret',
  npm_config_proxy: `http://alice:${encodeURIComponent(SECRET)}@proxy.corp:3128`,
  MY_SCRIPT_URL: `alice:${SECRET}`,
  GIT_SSH_COMMAND: 'ssh -i ~/.ssh/id',
  TERM: 'xterm',
};

describe('scrubEnvironment', () => {
  it('drops proxy variables and anything carrying a secret', () => {
    const result = scrubEnvironment(parent, [SECRET, encodeURIComponent(SECRET)]);
    expect(result.env).toEqual({ PATH: '/usr/bin', HOME: '/home/a', GIT_SSH_COMMAND: 'ssh -i ~/.ssh/id', TERM: 'xterm' });
    expect(result.dropped.sort()).toEqual(['HTTPS_PROXY', 'MY_SCRIPT_URL', 'npm_config_proxy']);
  });
});

describe('bridgeEnvironment', () => {
  it('points every proxy variable at the bridge and exempts loopback in Go syntax', () => {
    const env = bridgeEnvironment({ PATH: '/usr/bin' }, bridge);
    const url = bridgeUrl(bridge);
    expect(url).toBe('http://burrow:BridgeToken123@127.0.0.1:40000');
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'BURROW_PROXY']) expect(env[name]).toBe(url);
    expect(env.NO_PROXY).toBe(LOOPBACK_NO_PROXY);
    expect(env.no_proxy).toBe(LOOPBACK_NO_PROXY);
    const list = parseNoProxy(env.NO_PROXY);
    expect(list.ignored).toEqual([]);
    for (const [host, port] of [['localhost', 80], ['127.0.0.1', 22], ['127.1.2.3', 443], ['::1', 8080]] as const) {
      expect(matchNoProxy(list, host, port) ?? (isLoopbackTarget(host) ? 'loopback' : undefined)).toBeDefined();
      expect(matchNoProxy(list, host, port)).toBeDefined();
    }
    expect(matchNoProxy(list, 'example.org', 443)).toBeUndefined();
  });
});

describe('planExec', () => {
  const routeOptions = { env: parent, proxies: [`http://bob:${encodeURIComponent('cli-secret')}@proxy2:8080`] };
  const secrets = upstreamSecrets(routeOptions);
  it('collects every upstream secret: URL passwords, encoded forms, Basic tokens, BURROW_PROXY_PASSWORD', () => {
    expect(secrets).toEqual(expect.arrayContaining([SECRET, encodeURIComponent(SECRET), 'cli-secret', 'other-secret', Buffer.from('bob:cli-secret').toString('base64')]));
  });
  for (const command of [['ssh', '-p', '22', 'host'], ['git', 'clone', 'ssh://h/r'], ['rsync', '-a', 'x', 'h:y'], ['curl', 'https://x']]) {
    it(`no upstream credential reaches ${command[0]}'s environment or argv`, () => {
      const plan = planExec(command, parent, secrets, bridge, false);
      const everything = JSON.stringify([plan.program, plan.args, plan.env]);
      for (const secret of [SECRET, encodeURIComponent(SECRET), 'cli-secret', 'other-secret', 'alice:', 'bob:', 'proxy.corp', 'proxy2']) {
        expect(everything).not.toContain(secret);
      }
      expect(plan.env.HTTPS_PROXY).toBe(bridgeUrl(bridge));
    });
  }
  it('adds the ProxyCommand for ssh and GIT_SSH_COMMAND for git', () => {
    expect(planExec(['ssh', 'host'], parent, secrets, bridge, false).args.slice(0, 2)).toEqual(['-o', expect.stringMatching(/^ProxyCommand=\/.* connect %h %p$/)]);
    expect(planExec(['git', 'fetch'], parent, secrets, bridge, false).env.GIT_SSH_COMMAND).toMatch(/^ssh -i ~\/\.ssh\/id -o 'ProxyCommand=\/.* connect %h %p'$/);
  });
});

describe('environmentChanges', () => {
  it('lists set, changed and removed variables, sorted', () => {
    expect(environmentChanges({ A: '1', B: '2', C: '3' }, { A: '1', B: 'x', D: '4' })).toEqual([['B', 'x'], ['C', undefined], ['D', '4']]);
  });
});
