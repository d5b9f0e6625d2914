import { noProxySettings } from './bypass.ts';
import type { SystemProxySettings } from './types.ts';

// Windows: HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings, as `reg query KEY` prints it
// (REFERENCE.md §6): one "    NAME    REG_TYPE    VALUE" line per value (four spaces between the columns).
// ProxyEnable (DWORD), ProxyServer ("host:port" for every protocol, or "http=a:1;https=b:2;socks=c:3"),
// ProxyOverride (";"-separated, "<local>" = names without a dot), AutoConfigURL. As in WinINet, a PAC
// (AutoConfigURL) comes before the manual proxy.

export const WINDOWS_KEY = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
export const WINDOWS_ORIGIN = 'Windows proxy settings (Internet Settings)';

export function parseRegQuery(text: string): SystemProxySettings {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s+(\S(?:.*?\S)?)\s{4}(REG_[A-Z_]+)\s{4}(.*)$/.exec(line) ?? /^\s+(\S(?:.*?\S)?)\s{4}(REG_[A-Z_]+)\s*$/.exec(line);
    if (match) values.set(match[1]!.toLowerCase(), (match[3] ?? '').trim());
  }
  const settings = noProxySettings('windows', WINDOWS_ORIGIN, `${WINDOWS_ORIGIN} ProxyOverride`, (values.get('proxyoverride') ?? '').split(';'));
  const pac = values.get('autoconfigurl');
  if (pac) return { ...settings, mode: 'auto', pacUrl: pac };
  const enabled = Number(values.get('proxyenable') ?? '0') !== 0; // "0x1": Number() reads hex
  const server = values.get('proxyserver') ?? '';
  if (!enabled || server === '') return settings;
  const proxy = windowsProxy(server);
  if (!proxy) {
    settings.warnings.push(`${WINDOWS_ORIGIN}: ProxyServer "${server}" names no HTTPS, SOCKS or HTTP proxy burrow can use`);
    return settings;
  }
  return { ...settings, mode: 'manual', proxy };
}

/** "host:port" (every protocol) or "http=a:1;https=b:2;socks=c:3" -> the proxy for a TCP target. */
export function windowsProxy(server: string): string | undefined {
  const parts = server.split(';').map((p) => p.trim()).filter((p) => p !== '');
  const byProtocol = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) byProtocol.set('', part);
    else byProtocol.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const strip = (value: string) => value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/$/, '');
  const all = byProtocol.get('');
  if (all) return /^(https?|socks[45a-z]*):\/\//i.test(all) ? all : `http://${all}`;
  const https = byProtocol.get('https');
  if (https) return `http://${strip(https)}`;
  // WinINet's SOCKS client speaks SOCKS4; socks4a lets the proxy resolve the name, as a browser there would need.
  const socks = byProtocol.get('socks');
  if (socks) return `socks4a://${strip(socks)}`;
  const http = byProtocol.get('http');
  if (http) return `http://${strip(http)}`;
  return undefined;
}
