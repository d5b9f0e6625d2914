import { noProxySettings } from './bypass.ts';
import type { SystemProxySettings } from './types.ts';

// KDE's ~/.config/kioslaverc, section [Proxy Settings] (REFERENCE.md §6): ProxyType 0 none, 1 manual, 2 PAC
// ("Proxy Config Script"), 3 WPAD, 4 "use the environment"; httpsProxy/httpProxy/socksProxy as "http://host port"
// (KDE 5 writes a space before the port) or "host:port"; NoProxyFor a comma list. Keys may carry KConfig flags
// ("httpProxy[$e]").

export function parseKioslaverc(text: string, file = 'kioslaverc'): SystemProxySettings {
  const origin = `KDE proxy settings (${file})`;
  const keys = new Map<string, string>();
  let inSection = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inSection = line === '[Proxy Settings]';
      continue;
    }
    if (!inSection || line.startsWith('#') || !line.includes('=')) continue;
    const eq = line.indexOf('=');
    keys.set(line.slice(0, eq).replace(/\[\$[a-z]+\]$/, '').trim(), line.slice(eq + 1).trim());
  }
  const reversed = /^true$/i.test(keys.get('ReversedException') ?? '');
  const settings = noProxySettings('kde', origin, `${origin} NoProxyFor`, reversed ? [] : (keys.get('NoProxyFor') ?? '').split(','));
  if (reversed) settings.warnings.push(`${origin}: ReversedException (use the proxy only for NoProxyFor) is not supported; NoProxyFor is ignored`);
  switch (keys.get('ProxyType')) {
    case '1': {
      const proxy = kdeProxy(keys.get('httpsProxy'), 'http') ?? kdeProxy(keys.get('socksProxy'), 'socks5h') ?? kdeProxy(keys.get('httpProxy'), 'http');
      if (!proxy) {
        settings.warnings.push(`${origin}: ProxyType is 1 (manual) but no httpsProxy, socksProxy or httpProxy is set`);
        return settings;
      }
      return { ...settings, mode: 'manual', proxy };
    }
    case '2': {
      const url = keys.get('Proxy Config Script') ?? '';
      if (url === '') {
        settings.warnings.push(`${origin}: ProxyType is 2 (PAC) but "Proxy Config Script" is empty`);
        return settings;
      }
      return { ...settings, mode: 'auto', pacUrl: url };
    }
    case '3':
      settings.warnings.push(`${origin}: ProxyType is 3 (WPAD discovery), which burrow does not do: give a PAC URL or a proxy`);
      return settings;
    default:
      // 0 (none), 4 (environment variables: none is set, or a variable would have decided), or absent.
      return settings;
  }
}

/** "http://host port", "http://host:port", "host:port", "socks://host port" -> a proxy URL. */
export function kdeProxy(value: string | undefined, defaultScheme: 'http' | 'socks5h'): string | undefined {
  const text = (value ?? '').trim();
  if (text === '') return undefined;
  const match = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\[[^\]]+\]|[^\s:/]+)(?:[ :](\d+))?\/?$/i.exec(text);
  if (!match) return undefined;
  const given = match[1]?.toLowerCase();
  // KDE writes socks proxies as socks://; its SOCKS client is SOCKS5 and passes names to the proxy.
  const scheme = given === undefined ? defaultScheme : given === 'socks' || given === 'socks5' ? 'socks5h' : given;
  const port = match[3] ?? (scheme === 'http' ? '80' : scheme === 'https' ? '443' : '1080');
  if (port === '0') return undefined;
  return `${scheme}://${match[2]}:${port}`;
}
