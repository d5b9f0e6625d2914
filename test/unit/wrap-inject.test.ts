import { describe, expect, it } from 'vitest';
import { burrowWords, injectFor, proxyCommandValue, shQuote, sshArgsChooseProxy, toolKind } from '../../src/wrap/inject.ts';

const PC = '/opt/burrow/bin/burrow connect %h %p';

describe('proxyCommandValue', () => {
  it.each([
    [['/opt/burrow/bin/burrow'], [], 'linux', '/opt/burrow/bin/burrow connect %h %p'],
    [['/home/a b/burrow'], [], 'linux', "'/home/a b/burrow' connect %h %p"],
    [['/x/100%/burrow'], [], 'linux', '/x/100%%/burrow connect %h %p'],
    [['/x/burrow'], ['--proxy', 'http://p:3128'], 'linux', '/x/burrow connect --proxy http://p:3128 %h %p'],
    [['C:\\Program Files\\nodejs\\node.exe', 'C:\\b\\burrow'], [], 'win32', '"C:\\Program Files\\nodejs\\node.exe" C:\\b\\burrow connect %h %p'],
  ] as const)('%j %j on %s', (words, extra, platform, expected) => {
    expect(proxyCommandValue([...words], [...extra], platform)).toBe(expected);
  });
  it('burrowWords is absolute, with node.exe first on Windows', () => {
    expect(burrowWords('linux', 'bin/burrow', '/usr/bin/node')[0]).toMatch(/^\/.*bin\/burrow$/);
    expect(burrowWords('win32', '/b/burrow', 'C:\\node.exe')).toHaveLength(2);
  });
  it('burrowWords is the executable alone in a single executable, on every platform', () => {
    expect(burrowWords('linux', '/opt/burrow-linux-x64', '/opt/burrow-linux-x64', true)).toEqual(['/opt/burrow-linux-x64']);
    expect(burrowWords('win32', 'C:\\burrow.exe', 'C:\\burrow.exe', true)).toEqual(['C:\\burrow.exe']);
  });
  it('shQuote', () => {
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
    expect(shQuote('plain/path-1.2')).toBe('plain/path-1.2');
  });
});

describe('toolKind', () => {
  it.each([
    ['ssh', 'ssh'], ['/usr/bin/scp', 'scp'], ['SFTP.EXE', 'sftp'], ['git', 'git'], ['rsync', 'rsync'], ['curl', 'other'], ['sshpass', 'other'],
  ])('%s', (program, kind) => expect(toolKind(program)).toBe(kind));
});

describe('sshArgsChooseProxy', () => {
  it.each([
    ['ssh', ['host'], undefined],
    ['ssh', ['-o', 'ProxyCommand=nc %h %p', 'host'], '-o ProxyCommand=nc %h %p'],
    ['ssh', ['-oProxyCommand=none', 'host'], '-o ProxyCommand=none'],
    ['ssh', ['-o', 'proxyjump jump', 'host'], '-o proxyjump jump'],
    ['ssh', ['-J', 'jump', 'host'], '-J jump'],
    ['ssh', ['-vJjump', 'host'], '-J jump'],
    ['ssh', ['-p', '-J', 'host'], undefined], // "-J" is -p's value
    ['ssh', ['host', '-o', 'ProxyCommand=x'], undefined], // after the destination: the remote command
    ['ssh', ['-o', 'ServerAliveInterval=5', 'host'], undefined],
    ['scp', ['file', '-J', 'jump', 'host:'], '-J jump'],
    ['sftp', ['-oProxyJump=j', 'host'], '-o ProxyJump=j'],
  ] as const)('%s %j', (kind, args, expected) => {
    expect(sshArgsChooseProxy(kind, [...args])).toBe(expected);
  });
});

describe('injectFor', () => {
  it('ssh, scp and sftp get -o ProxyCommand first', () => {
    for (const program of ['ssh', 'scp', '/usr/bin/sftp']) {
      const result = injectFor(program, ['-p', '22', 'host'], {}, PC);
      expect(result.args).toEqual(['-o', `ProxyCommand=${PC}`, '-p', '22', 'host']);
      expect(result.env).toEqual({});
    }
  });
  it('keeps an explicit ProxyCommand or ProxyJump', () => {
    const args = ['-J', 'jump', 'host'];
    expect(injectFor('ssh', args, {}, PC).args).toBe(args);
  });
  it('git gets GIT_SSH_COMMAND, extending the user\'s', () => {
    expect(injectFor('git', ['clone', 'ssh://h/r'], {}, PC)).toMatchObject({ args: ['clone', 'ssh://h/r'], env: { GIT_SSH_COMMAND: `ssh -o 'ProxyCommand=${PC}'` } });
    expect(injectFor('git', [], { GIT_SSH_COMMAND: 'ssh -i key' }, PC).env).toEqual({ GIT_SSH_COMMAND: `ssh -i key -o 'ProxyCommand=${PC}'` });
    expect(injectFor('git', [], { GIT_SSH_COMMAND: 'ssh -o ProxyCommand=x' }, PC).env).toEqual({});
    expect(injectFor('git', [], { GIT_SSH: '/usr/bin/plink' }, PC).env).toEqual({});
  });
  it('rsync gets -e unless it has one', () => {
    expect(injectFor('rsync', ['-av', 'src', 'h:dst'], {}, PC).args).toEqual(['-e', `ssh -o 'ProxyCommand=${PC}'`, '-av', 'src', 'h:dst']);
    expect(injectFor('rsync', ['-e', 'ssh -p 2', 'src', 'h:dst'], {}, PC).args).toEqual(['-e', 'ssh -p 2', 'src', 'h:dst']);
    expect(injectFor('rsync', ['--rsh=ssh', 'src', 'h:dst'], {}, PC).args).toEqual(['--rsh=ssh', 'src', 'h:dst']);
    expect(injectFor('rsync', ['src', 'h:dst'], { RSYNC_RSH: 'ssh -p 2' }, PC).args[1]).toBe(`ssh -p 2 -o 'ProxyCommand=${PC}'`);
  });
  it('others get nothing but the environment', () => {
    expect(injectFor('curl', ['-s', 'http://x'], {}, PC)).toMatchObject({ args: ['-s', 'http://x'], env: {} });
  });
});
