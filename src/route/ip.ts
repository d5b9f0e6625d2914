import { isIP } from 'node:net';

// Byte-level IP helpers for NO_PROXY matching. IPv4-mapped IPv6 addresses compare equal to their IPv4 form, as
// Go's net.IP.Equal and IPNet.Contains treat them.

export function parseIp(text: string): Uint8Array | undefined {
  const family = isIP(text);
  if (family === 4) return parseIpv4(text);
  if (family === 6) return unmapIpv4(parseIpv6(text));
  return undefined;
}

function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function parseIpv6(text: string): Uint8Array {
  let body = text.split('%')[0] ?? text;
  const bytes = new Uint8Array(16);
  // A trailing dotted quad ("::ffff:1.2.3.4") stands for the last two groups.
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIpv4(tail);
    body = `${body.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head = '', rest] = body.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((group, index) => {
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}

function unmapIpv4(bytes: Uint8Array): Uint8Array {
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

export function ipEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export interface Cidr {
  network: Uint8Array;
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const family = isIP(addressText);
  if (family === 0) return undefined;
  // Go's ParseCIDR keeps an IPv4 network in 4 bytes and an IPv6 one in 16, even "::ffff:10.0.0.0/104".
  const raw = family === 4 ? parseIpv4(addressText) : parseIpv6(addressText);
  let prefix = Number(prefixText);
  if (prefix > raw.length * 8) return undefined;
  let network = raw;
  if (raw.length === 16 && unmapIpv4(raw).length === 4 && prefix >= 96) {
    network = raw.slice(12);
    prefix -= 96;
  }
  return { network, prefix };
}

export function cidrContains(cidr: Cidr, ip: Uint8Array): boolean {
  if (cidr.network.length !== ip.length) return false;
  const fullBytes = Math.floor(cidr.prefix / 8);
  for (let i = 0; i < fullBytes; i++) if (cidr.network[i] !== ip[i]) return false;
  const bits = cidr.prefix % 8;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((cidr.network[fullBytes]! ^ ip[fullBytes]!) & mask) === 0;
}

export function isLoopbackIp(ip: Uint8Array): boolean {
  if (ip.length === 4) return ip[0] === 127;
  return ip.slice(0, 15).every((b) => b === 0) && ip[15] === 1;
}
