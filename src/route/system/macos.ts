import { noProxySettings } from './bypass.ts';
import type { SystemProxySettings } from './types.ts';

// macOS: `scutil --proxy` prints the current network service's proxy dictionary (REFERENCE.md §6):
//   <dictionary> {
//     ExceptionsList : <array> {
//       0 : *.local
//     }
//     HTTPSEnable : 1
//     HTTPSPort : 3128
//     HTTPSProxy : proxy.corp
//     ProxyAutoConfigEnable : 1
//     ProxyAutoConfigURLString : http://pac.corp/proxy.pac
//   }
// As in macOS' own resolver (CFNetwork), an enabled PAC comes before the manual proxies.

export const MACOS_ORIGIN = 'macOS proxy settings (scutil --proxy)';

export function parseScutilProxy(text: string): SystemProxySettings {
  const keys = new Map<string, string>();
  const exceptions: string[] = [];
  let depth = 0;
  let inExceptions = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '}') {
      depth--;
      inExceptions = false;
      continue;
    }
    const match = /^(\S+) : (.*)$/.exec(line);
    if (!match) continue;
    const [, key, value] = match as unknown as [string, string, string];
    if (inExceptions) {
      exceptions.push(value.trim());
      continue;
    }
    if (value.endsWith('{')) {
      depth++;
      inExceptions = depth === 1 && key === 'ExceptionsList';
      continue;
    }
    // Top-level keys only (depth 0 inside the outer dictionary): __SCOPED__ holds per-interface copies.
    if (depth === 0) keys.set(key, value.trim());
  }
  const on = (key: string) => keys.get(key) === '1';
  const settings = noProxySettings('macos', MACOS_ORIGIN, `${MACOS_ORIGIN} ExceptionsList`, exceptions);
  if (on('ExcludeSimpleHostnames')) settings.bypassSimpleNames = true;
  if (on('ProxyAutoConfigEnable') && keys.get('ProxyAutoConfigURLString')) {
    return { ...settings, mode: 'auto', pacUrl: keys.get('ProxyAutoConfigURLString')! };
  }
  const endpoint = (prefix: string): string | undefined => {
    const host = keys.get(`${prefix}Proxy`);
    const port = Number(keys.get(`${prefix}Port`));
    if (!on(`${prefix}Enable`) || !host || !Number.isInteger(port) || port <= 0) return undefined;
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  };
  const https = endpoint('HTTPS');
  const socks = endpoint('SOCKS');
  const http = endpoint('HTTP');
  // macOS' SOCKS client is SOCKS5 and sends names to the proxy.
  const proxy = https ? `http://${https}` : socks ? `socks5h://${socks}` : http ? `http://${http}` : undefined;
  if (!proxy) {
    if (on('ProxyAutoDiscoveryEnable')) settings.warnings.push(`${MACOS_ORIGIN}: automatic proxy discovery (WPAD) is on, which burrow does not do: give a PAC URL or a proxy`);
    return settings;
  }
  return { ...settings, mode: 'manual', proxy };
}
