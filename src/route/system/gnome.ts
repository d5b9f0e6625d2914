import { noProxySettings } from './bypass.ts';
import type { SystemProxySettings } from './types.ts';

// GNOME's org.gnome.system.proxy, as `gsettings list-recursively org.gnome.system.proxy` prints it: one line per
// key, "SCHEMA KEY VALUE", the value in GVariant text form ('manual', 3128, ['localhost', '*.corp'], @as [], true).
// One spawn reads the schema and its .http/.https/.socks children; gsettings reads dconf's database file itself, so
// no D-Bus session is needed to read.
//
// Which proxy a TCP target takes, as GLib's own resolver (gio/gproxyresolvergnome.c) would give it to a non-HTTP
// client: the https setting (GLib falls back to the http one when https has no host), else SOCKS. GLib's SOCKS5
// client sends the host name to the proxy, so SOCKS here is socks5h://.

export const GNOME_SCHEMA = 'org.gnome.system.proxy';
export const GNOME_ORIGIN = `GNOME proxy settings (${GNOME_SCHEMA})`;

type GValue = string | number | boolean | string[];

export function parseGsettings(text: string): SystemProxySettings {
  const values = new Map<string, GValue>();
  for (const line of text.split('\n')) {
    const match = /^(org\.gnome\.system\.proxy(?:\.\w+)?) (\S+) (.*)$/.exec(line.trim());
    if (!match) continue;
    const value = parseGVariant(match[3]!);
    if (value !== undefined) values.set(`${match[1]!.slice(GNOME_SCHEMA.length + 1) || '.'}/${match[2]}`, value);
  }
  const str = (key: string): string => {
    const v = values.get(key);
    return typeof v === 'string' ? v : '';
  };
  const num = (key: string): number => {
    const v = values.get(key);
    return typeof v === 'number' ? v : 0;
  };
  const ignore = values.get('./ignore-hosts');
  const settings = noProxySettings('gnome', GNOME_ORIGIN, `${GNOME_ORIGIN} ignore-hosts`, Array.isArray(ignore) ? ignore : []);
  const mode = str('./mode');
  if (mode === 'auto') {
    const url = str('./autoconfig-url').trim();
    if (url === '') {
      settings.warnings.push(`${GNOME_ORIGIN}: mode is auto without an autoconfig-url (WPAD discovery), which burrow does not do: set autoconfig-url, or a proxy`);
      return settings;
    }
    return { ...settings, mode: 'auto', pacUrl: url };
  }
  if (mode !== 'manual') return settings;
  const endpoint = (child: string): string | undefined => {
    const host = str(`${child}/host`).trim();
    const port = num(`${child}/port`);
    return host !== '' && port > 0 ? `${bracketed(host)}:${port}` : undefined;
  };
  const http = endpoint('http');
  const https = endpoint('https') ?? http;
  const socks = endpoint('socks');
  const proxy = https ? `http://${https}` : socks ? `socks5h://${socks}` : undefined;
  if (!proxy) {
    settings.warnings.push(`${GNOME_ORIGIN}: mode is manual but no HTTPS, HTTP or SOCKS host is set`);
    return settings;
  }
  return { ...settings, mode: 'manual', proxy };
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The GVariant text forms gsettings prints for the proxy schema's types: s, i, b, as. */
export function parseGVariant(text: string): GValue | undefined {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+$/.test(t)) return Number(t);
  if (t.startsWith("'") || t.startsWith('"')) {
    const read = readString(t, 0);
    return read && read.end === t.length ? read.value : undefined;
  }
  const array = t.startsWith('@as ') ? t.slice(4).trim() : t;
  if (!array.startsWith('[') || !array.endsWith(']')) return undefined;
  const items: string[] = [];
  let i = 1;
  for (;;) {
    while (array[i] === ' ' || array[i] === ',') i++;
    if (array[i] === ']') return i === array.length - 1 ? items : undefined;
    const read = readString(array, i);
    if (!read) return undefined;
    items.push(read.value);
    i = read.end;
  }
}

// A GVariant string literal: '…' or "…" (gsettings uses double quotes when the text holds a single quote), with
// backslash escapes.
function readString(text: string, start: number): { value: string; end: number } | undefined {
  const quote = text[start];
  if (quote !== "'" && quote !== '"') return undefined;
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === quote) return { value, end: i + 1 };
    if (c === '\\' && i + 1 < text.length) {
      const next = text[++i]!;
      value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
    } else {
      value += c;
    }
  }
  return undefined;
}
