import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markers, renderHostBlock, renderTeleportBlock, upsertBlock, writeBlock } from '../../src/wrap/ssh-config.ts';

const burrow = ['/opt/burrow/bin/burrow'];

describe('renderHostBlock', () => {
  it('ProxyCommand, ServerAliveInterval and multiplexing', () => {
    const text = renderHostBlock({ hosts: ['jump.ecmwf.int', '*.lab'], burrow, multiplex: true, platform: 'linux' });
    expect(text).toContain('Host jump.ecmwf.int *.lab\n');
    expect(text).toContain('    ProxyCommand /opt/burrow/bin/burrow connect %h %p\n');
    expect(text).toContain('    ServerAliveInterval 30\n');
    expect(text).toContain('    ControlMaster auto\n');
    expect(text).toContain('    ControlPersist 10m\n');
    expect(text).toMatch(/ControlPath ~\/\.ssh\/burrow-cm-%C/);
  });
  it('--no-multiplex, and Windows (no ControlMaster there)', () => {
    expect(renderHostBlock({ hosts: ['h'], burrow, multiplex: false, platform: 'linux' })).not.toContain('ControlMaster');
    const windows = renderHostBlock({ hosts: ['h'], burrow: ['C:\\Program Files\\nodejs\\node.exe', 'C:\\b\\burrow'], multiplex: true, platform: 'win32' });
    expect(windows).not.toContain('ControlMaster');
    expect(windows).toContain('ProxyCommand "C:\\Program Files\\nodejs\\node.exe" C:\\b\\burrow connect %h %p');
  });
  it('--fdpass: ProxyUseFdpass yes and connect --fdpass, never for Windows OpenSSH', () => {
    const text = renderHostBlock({ hosts: ['h'], burrow, connectOptions: ['--proxy', 'http://p:3128'], multiplex: true, fdpass: true, platform: 'linux' });
    expect(text).toContain('    ProxyCommand /opt/burrow/bin/burrow connect --fdpass --proxy http://p:3128 %h %p\n');
    expect(text).toContain('    ProxyUseFdpass yes\n');
    const windows = renderHostBlock({ hosts: ['h'], burrow, multiplex: true, fdpass: true, platform: 'win32' });
    expect(windows).not.toContain('fdpass');
    expect(windows).not.toMatch(/ProxyUseFdpass/i);
    expect(renderHostBlock({ hosts: ['h'], burrow, multiplex: false, platform: 'linux' })).not.toContain('ProxyUseFdpass');
  });
  it('quotes paths with spaces and doubles %', () => {
    expect(renderHostBlock({ hosts: ['h'], burrow: ['/a b/100%/burrow'], connectOptions: ['--proxy', 'http://p:3128'], multiplex: false, platform: 'linux' })).toContain(
      "ProxyCommand '/a b/100%%/burrow' connect --proxy http://p:3128 %h %p",
    );
  });
});

describe('renderTeleportBlock', () => {
  it('writes what tsh config would, through burrow tsh', () => {
    const text = renderTeleportBlock({ cluster: 'ecmwf', proxyHost: 'jump.ecmwf.int', proxyPort: 443, burrow, user: 'alice', platform: 'linux' });
    expect(text).toContain('Host *.ecmwf jump.ecmwf.int\n');
    expect(text).toContain('IdentityFile "~/.tsh/keys/jump.ecmwf.int/alice"');
    expect(text).toContain('CertificateFile "~/.tsh/keys/jump.ecmwf.int/alice-ssh/ecmwf-cert.pub"');
    expect(text).toContain('Host *.ecmwf !jump.ecmwf.int\n    Port 3022\n');
    expect(text).toContain('ProxyCommand /opt/burrow/bin/burrow tsh -q -- proxy ssh --cluster=ecmwf --proxy=jump.ecmwf.int:443 %r@%h:%p');
  });
});

describe('upsertBlock', () => {
  const block = 'Host a\n    ProxyCommand x %h %p\n';
  const cases: Array<[string, string]> = [
    ['empty file', ''],
    ['global options only', 'ServerAliveInterval 60\nUser me\n'],
    ['global options then hosts', 'User me\n\nHost other\n    Port 2\n\nHost *\n    ForwardAgent no\n'],
    ['host first', 'Host other\n    Port 2\n'],
    ['no final newline', 'User me'],
  ];
  for (const [name, text] of cases) {
    it(`${name}: inserted once, before the first Host, idempotent`, () => {
      const once = upsertBlock(text, 'a', block);
      const twice = upsertBlock(once, 'a', block);
      expect(twice).toBe(once);
      const { begin, end } = markers('a');
      expect(once.split(begin).length).toBe(2);
      expect(once.indexOf(end)).toBeGreaterThan(once.indexOf(begin));
      const firstHost = text.search(/^Host /m);
      if (firstHost >= 0) expect(once.indexOf(begin)).toBeLessThan(once.indexOf(text.slice(firstHost)));
      // Everything that was there is still there, in order.
      expect(once.replace(/# >>>[\s\S]*?<<< burrow ssh-config a <<<\n\n?/, '').replace(/\n+$/, '')).toBe(text.replace(/\n+$/, ''));
    });
  }
  it('replaces a changed block in place', () => {
    const first = upsertBlock('Host z\n', 'a', block);
    const second = upsertBlock(first, 'a', 'Host a\n    ProxyCommand y %h %p\n');
    expect(second).toContain('ProxyCommand y');
    expect(second).not.toContain('ProxyCommand x');
    expect(second.endsWith('Host z\n')).toBe(true);
  });
});

describe('writeBlock', () => {
  it('creates the file 0600, backs up before changing, and changes nothing the second time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'burrow-sshcfg-'));
    const file = join(dir, '.ssh', 'config');
    expect(writeBlock(file, 'a', 'Host a\n')).toEqual({ file, changed: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(writeBlock(file, 'a', 'Host a\n')).toEqual({ file, changed: false });
    writeFileSync(file, `User me\n${readFileSync(file, 'utf8')}`);
    const before = readFileSync(file, 'utf8');
    const result = writeBlock(file, 'b', 'Host b\n');
    expect(result.changed).toBe(true);
    expect(result.backup && existsSync(result.backup) && readFileSync(result.backup, 'utf8')).toBe(before);
    expect(readFileSync(file, 'utf8')).toContain('Host b');
  });
});
