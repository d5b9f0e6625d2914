import { describe, expect, it } from 'vitest';
import { convertBypass } from '../../src/route/system/bypass.ts';
import { parseGsettings, parseGVariant } from '../../src/route/system/gnome.ts';
import { kdeProxy, parseKioslaverc } from '../../src/route/system/kde.ts';
import { parseScutilProxy } from '../../src/route/system/macos.ts';
import { readSystemProxy, systemProxyKind } from '../../src/route/system/read.ts';
import { parseRegQuery, windowsProxy } from '../../src/route/system/windows.ts';

// The desktops' proxy settings (REFERENCE.md §6). GNOME and KDE are also read for real in
// test/integration/system-proxy.test.ts; macOS and Windows from recorded outputs of `scutil --proxy` and
// `reg query`, with the reading command injected.

const gsettings = (mode: string, extra: string[] = []): string =>
  [
    "org.gnome.system.proxy autoconfig-url ''",
    "org.gnome.system.proxy ignore-hosts ['localhost', '127.0.0.0/8', '::1']",
    `org.gnome.system.proxy mode '${mode}'`,
    'org.gnome.system.proxy use-same-proxy true',
    "org.gnome.system.proxy.ftp host ''",
    'org.gnome.system.proxy.ftp port 0',
    "org.gnome.system.proxy.http authentication-password ''",
    "org.gnome.system.proxy.http host ''",
    'org.gnome.system.proxy.http port 8080',
    "org.gnome.system.proxy.https host ''",
    'org.gnome.system.proxy.https port 0',
    "org.gnome.system.proxy.socks host ''",
    'org.gnome.system.proxy.socks port 0',
    ...extra,
  ].join('\n');

describe('GNOME: gsettings list-recursively org.gnome.system.proxy', () => {
  it.each([
    ["'manual'", 'manual'],
    ["\"it's\"", "it's"],
    ["'a\\'b'", "a'b"],
    ['3128', 3128],
    ['true', true],
    ["['localhost', '*.corp']", ['localhost', '*.corp']],
    ['@as []', []],
    ["['unterminated", undefined],
  ] as const)('GVariant %s', (text, value) => {
    expect(parseGVariant(text)).toEqual(value);
  });

  it('manual: https host wins, then http (GLib falls back), then socks as socks5h', () => {
    const https = parseGsettings(gsettings('manual', ["org.gnome.system.proxy.https host 'secure.corp'", 'org.gnome.system.proxy.https port 3129', "org.gnome.system.proxy.http host 'plain.corp'"]));
    expect(https).toMatchObject({ mode: 'manual', proxy: 'http://secure.corp:3129', origin: 'GNOME proxy settings (org.gnome.system.proxy)' });
    const http = parseGsettings(gsettings('manual', ["org.gnome.system.proxy.http host 'plain.corp'"]));
    expect(http.proxy).toBe('http://plain.corp:8080');
    const socks = parseGsettings(gsettings('manual', ["org.gnome.system.proxy.socks host 'socks.corp'", 'org.gnome.system.proxy.socks port 1080']));
    expect(socks.proxy).toBe('socks5h://socks.corp:1080');
    expect(https.bypass).toEqual(['localhost', '127.0.0.0/8', '::1']);
  });

  it('manual without any host: none, with a warning', () => {
    const settings = parseGsettings(gsettings('manual'));
    expect(settings.mode).toBe('none');
    expect(settings.warnings.join()).toMatch(/no HTTPS, HTTP or SOCKS host/);
  });

  it('auto: the autoconfig-url feeds the PAC path; without one (WPAD) nothing', () => {
    expect(parseGsettings(gsettings('auto', ["org.gnome.system.proxy autoconfig-url 'http://pac.corp/proxy.pac'"]))).toMatchObject({ mode: 'auto', pacUrl: 'http://pac.corp/proxy.pac' });
    const wpad = parseGsettings(gsettings('auto'));
    expect(wpad.mode).toBe('none');
    expect(wpad.warnings.join()).toMatch(/WPAD/);
  });

  it('none', () => {
    expect(parseGsettings(gsettings('none', ["org.gnome.system.proxy.https host 'secure.corp'", 'org.gnome.system.proxy.https port 3129'])).mode).toBe('none');
  });
});

describe('KDE: kioslaverc [Proxy Settings]', () => {
  it.each([
    ['http://proxy.corp 3128', 'http://proxy.corp:3128'],
    ['http://proxy.corp:3128', 'http://proxy.corp:3128'],
    ['proxy.corp:3128', 'http://proxy.corp:3128'],
    ['proxy.corp 3128', 'http://proxy.corp:3128'],
    ['socks://socks.corp 1080', 'socks5h://socks.corp:1080'],
    ['http://[2001:db8::1] 3128', 'http://[2001:db8::1]:3128'],
    ['http://proxy.corp 0', undefined],
    ['', undefined],
    ['http://proxy corp', undefined],
  ])('%j -> %s', (value, url) => {
    expect(kdeProxy(value, 'http')).toBe(url);
  });

  const rc = (lines: string[]): string => ['[General]', 'httpsProxy=http://wrong 1', '', '[Proxy Settings]', ...lines, '', '[Other]', 'ProxyType=0'].join('\n');

  it('ProxyType=1: httpsProxy, else socksProxy, else httpProxy; NoProxyFor; $e flags', () => {
    const settings = parseKioslaverc(rc(['ProxyType=1', 'httpProxy=http://plain.corp 8080', 'httpsProxy[$e]=http://secure.corp 3128', 'NoProxyFor=localhost,.corp.example,10.0.0.0/8']), '/home/u/.config/kioslaverc');
    expect(settings).toMatchObject({ mode: 'manual', proxy: 'http://secure.corp:3128', bypass: ['localhost', '.corp.example', '10.0.0.0/8'], origin: 'KDE proxy settings (/home/u/.config/kioslaverc)' });
    expect(parseKioslaverc(rc(['ProxyType=1', 'httpProxy=plain.corp:8080', 'socksProxy=socks://s.corp 1080'])).proxy).toBe('socks5h://s.corp:1080');
    expect(parseKioslaverc(rc(['ProxyType=1', 'httpProxy=plain.corp:8080', 'httpsProxy='])).proxy).toBe('http://plain.corp:8080');
  });

  it('ProxyType=2: Proxy Config Script; 3 (WPAD) and 4 (environment) and 0: none', () => {
    expect(parseKioslaverc(rc(['ProxyType=2', 'Proxy Config Script=file:///etc/proxy.pac']))).toMatchObject({ mode: 'auto', pacUrl: 'file:///etc/proxy.pac' });
    expect(parseKioslaverc(rc(['ProxyType=3'])).warnings.join()).toMatch(/WPAD/);
    expect(parseKioslaverc(rc(['ProxyType=4', 'httpsProxy=HTTPS_PROXY'])).mode).toBe('none');
    expect(parseKioslaverc(rc(['ProxyType=0', 'httpsProxy=http://secure.corp 3128'])).mode).toBe('none');
  });

  it('ReversedException: NoProxyFor ignored with a warning', () => {
    const settings = parseKioslaverc(rc(['ProxyType=1', 'httpsProxy=http://p 3128', 'NoProxyFor=only.this', 'ReversedException=true']));
    expect(settings.bypass).toEqual([]);
    expect(settings.warnings.join()).toMatch(/ReversedException/);
  });
});

// Recorded from macOS 14 (`scutil --proxy`), host names changed.
const SCUTIL_MANUAL = `<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254/16
    2 : intranet.corp
  }
  ExcludeSimpleHostnames : 1
  FTPPassive : 1
  HTTPEnable : 1
  HTTPPort : 8080
  HTTPProxy : plain.corp
  HTTPSEnable : 1
  HTTPSPort : 3128
  HTTPSProxy : secure.corp
  SOCKSEnable : 0
  __SCOPED__ : <dictionary> {
    en0 : <dictionary> {
      HTTPSEnable : 1
      HTTPSPort : 9999
      HTTPSProxy : scoped.corp
    }
  }
}
`;
const SCUTIL_PAC = `<dictionary> {
  ExcludeSimpleHostnames : 0
  HTTPEnable : 0
  HTTPSEnable : 1
  HTTPSPort : 3128
  HTTPSProxy : secure.corp
  ProxyAutoConfigEnable : 1
  ProxyAutoConfigURLString : http://pac.corp/proxy.pac
}
`;
const SCUTIL_NONE = `<dictionary> {
  HTTPEnable : 0
  HTTPSEnable : 0
  ProxyAutoConfigEnable : 0
  SOCKSEnable : 0
}
`;

describe('macOS: scutil --proxy', () => {
  it('manual: HTTPS first; exceptions converted; simple host names; __SCOPED__ ignored', () => {
    expect(parseScutilProxy(SCUTIL_MANUAL)).toMatchObject({
      mode: 'manual',
      proxy: 'http://secure.corp:3128',
      bypass: ['*.local', '169.254.0.0/16', 'intranet.corp'],
      bypassSimpleNames: true,
    });
  });
  it('PAC enabled wins over the manual proxy', () => {
    expect(parseScutilProxy(SCUTIL_PAC)).toMatchObject({ mode: 'auto', pacUrl: 'http://pac.corp/proxy.pac', bypassSimpleNames: false });
  });
  it('nothing enabled', () => {
    expect(parseScutilProxy(SCUTIL_NONE).mode).toBe('none');
  });
  it('SOCKS only: socks5h', () => {
    expect(parseScutilProxy('<dictionary> {\n  SOCKSEnable : 1\n  SOCKSPort : 1080\n  SOCKSProxy : s.corp\n}\n').proxy).toBe('socks5h://s.corp:1080');
  });
});

// Recorded from Windows 11 (`reg query "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"`).
const REG = (values: string[]): string =>
  ['', 'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings', '    CertificateRevocation    REG_DWORD    0x1', '    DisableCachingOfSSLPages    REG_DWORD    0x0', '    User Agent    REG_SZ    Mozilla/4.0 (compatible; MSIE 8.0; Win32)', ...values, '', 'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\5.0', ''].join('\r\n');

describe('Windows: reg query Internet Settings', () => {
  it.each([
    ['proxy.corp:8080', 'http://proxy.corp:8080'],
    ['http=plain.corp:80;https=secure.corp:3128;socks=s.corp:1080', 'http://secure.corp:3128'],
    ['http=plain.corp:80;socks=s.corp:1080', 'socks4a://s.corp:1080'],
    ['http=plain.corp:80', 'http://plain.corp:80'],
    ['https=http://secure.corp:3128/', 'http://secure.corp:3128'],
    ['ftp=f.corp:21', undefined],
  ])('ProxyServer %s -> %s', (server, url) => {
    expect(windowsProxy(server)).toBe(url);
  });

  it('ProxyEnable 0x1 with ProxyOverride and <local>', () => {
    expect(parseRegQuery(REG(['    ProxyEnable    REG_DWORD    0x1', '    ProxyServer    REG_SZ    proxy.corp:8080', '    ProxyOverride    REG_SZ    *.corp.example;10.*;192.168.1.*;*intra*;<local>']))).toMatchObject({
      mode: 'manual',
      proxy: 'http://proxy.corp:8080',
      bypass: ['*.corp.example', '10.0.0.0/8', '192.168.1.0/24'],
      bypassSimpleNames: true,
    });
  });
  it('ProxyEnable 0x0: none; AutoConfigURL: auto', () => {
    expect(parseRegQuery(REG(['    ProxyEnable    REG_DWORD    0x0', '    ProxyServer    REG_SZ    proxy.corp:8080'])).mode).toBe('none');
    expect(parseRegQuery(REG(['    ProxyEnable    REG_DWORD    0x0', '    AutoConfigURL    REG_SZ    http://pac.corp/proxy.pac']))).toMatchObject({ mode: 'auto', pacUrl: 'http://pac.corp/proxy.pac' });
  });
  it('a pattern NO_PROXY cannot say is warned about', () => {
    expect(parseRegQuery(REG(['    ProxyEnable    REG_DWORD    0x1', '    ProxyServer    REG_SZ    p:1', '    ProxyOverride    REG_SZ    *intra*'])).warnings.join()).toMatch(/"\*intra\*" has no NO_PROXY equivalent/);
  });
});

describe('exception lists in NO_PROXY syntax', () => {
  it.each([
    ['<local>', [], true],
    ['10.*', ['10.0.0.0/8'], false],
    ['10.1.*.*', ['10.1.0.0/16'], false],
    ['169.254/16', ['169.254.0.0/16'], false],
    ['*.corp', ['*.corp'], false],
    ['.corp', ['.corp'], false],
    ['*', ['*'], false],
    ['web*', [], false],
    ['300.*', [], false],
  ] as const)('%s', (pattern, entries, simple) => {
    const list = convertBypass([pattern], 'x');
    expect(list.entries).toEqual(entries);
    expect(list.simpleNames).toBe(simple);
  });
});

describe('which settings are read, and how', () => {
  it.each([
    [{}, 'linux', undefined],
    [{ XDG_CURRENT_DESKTOP: 'ubuntu:GNOME' }, 'linux', 'gnome'],
    [{ XDG_CURRENT_DESKTOP: 'X-Cinnamon' }, 'linux', 'gnome'],
    [{ XDG_CURRENT_DESKTOP: 'KDE' }, 'linux', 'kde'],
    [{}, 'darwin', 'macos'],
    [{}, 'win32', 'windows'],
    [{ BURROW_SYSTEM_PROXY: 'off' }, 'darwin', 'off'],
    [{ BURROW_SYSTEM_PROXY: 'kde', XDG_CURRENT_DESKTOP: 'GNOME' }, 'linux', 'kde'],
  ] as const)('%j on %s -> %s', (env, platform, kind) => {
    expect(systemProxyKind(env, platform)).toBe(kind);
  });

  it('runs the platform command and parses its answer (injected)', async () => {
    const calls: string[] = [];
    const run = (file: string, args: string[]) => {
      calls.push([file, ...args].join(' '));
      return file === 'scutil' ? SCUTIL_PAC : undefined;
    };
    const reading = await readSystemProxy({ env: {}, platform: 'darwin', run, readFile: () => undefined });
    expect(calls).toEqual(['scutil --proxy']);
    expect(reading.settings?.pacUrl).toBe('http://pac.corp/proxy.pac');
    const windows = await readSystemProxy({ env: {}, platform: 'win32', run: () => REG(['    ProxyEnable    REG_DWORD    0x1', '    ProxyServer    REG_SZ    proxy.corp:8080']), readFile: () => undefined });
    expect(windows.settings?.proxy).toBe('http://proxy.corp:8080');
  });

  it('spawns nothing outside a desktop session, or when turned off', async () => {
    const run = () => {
      throw new Error('must not run');
    };
    expect((await readSystemProxy({ env: {}, platform: 'linux', run, readFile: () => undefined })).skipped).toMatch(/no GNOME or KDE/);
    expect((await readSystemProxy({ env: { BURROW_SYSTEM_PROXY: 'off' }, platform: 'win32', run, readFile: () => undefined })).skipped).toMatch(/off/);
  });

  it('KDE reads $XDG_CONFIG_HOME/kioslaverc', async () => {
    const files: string[] = [];
    const reading = await readSystemProxy({ env: { XDG_CURRENT_DESKTOP: 'KDE', XDG_CONFIG_HOME: '/cfg' }, platform: 'linux', run: () => undefined, readFile: (f) => (files.push(f), '[Proxy Settings]\nProxyType=1\nhttpsProxy=http://p 3128\n') });
    expect(files).toEqual(['/cfg/kioslaverc']);
    expect(reading.settings?.proxy).toBe('http://p:3128');
  });
});
