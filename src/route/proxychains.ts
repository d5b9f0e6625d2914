import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { BurrowError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';
import { cidrContains, parseCidr, parseIp, type Cidr } from './ip.ts';
import type { RouteAlternative } from './plan.ts';
import { type ProxyEndpoint, formatHops } from './proxy-url.ts';
import type { Target } from './target.ts';

// `--proxychains-conf FILE`: brings an existing proxychains(-ng) setup along. Read: the chain type (strict_chain,
// dynamic_chain, random_chain with chain_len; round_robin_chain is read as random_chain), proxy_dns, localnet, and
// the [ProxyList] entries "TYPE HOST PORT [USER PASS]" with TYPE http, socks4 or socks5. Options that only make sense
// inside proxychains' LD_PRELOAD hook (remote_dns_subnet, tcp_*_time_out, quiet_mode, dnat) are accepted and
// ignored with a warning where they change behaviour. Pure: parse once, then `proxychainsAlternative` per target.

export type ChainType = 'strict_chain' | 'dynamic_chain' | 'random_chain';

export interface ProxychainsConf {
  file: string;
  chain: ChainType;
  /** The line that chose the chain type (0: none did; proxychains-ng's default, dynamic_chain, applies). */
  chainLine: number;
  chainLen: number;
  proxyDns: boolean;
  proxies: Array<{ proxy: ProxyEndpoint; line: number }>;
  localnets: Array<{ text: string; cidr: Cidr; port?: number; line: number }>;
  warnings: string[];
}

const IGNORED = new Set(['remote_dns_subnet', 'tcp_read_time_out', 'tcp_connect_time_out', 'quiet_mode', 'proxy_dns_old', 'proxy_dns_daemon']);

export function readProxychainsConf(file: string): ProxychainsConf {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BurrowError('usage', `cannot read --proxychains-conf ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseProxychainsConf(text, file);
}

export function parseProxychainsConf(text: string, file: string): ProxychainsConf {
  const conf: ProxychainsConf = { file, chain: 'dynamic_chain', chainLine: 0, chainLen: 1, proxyDns: false, proxies: [], localnets: [], warnings: [] };
  const errors: string[] = [];
  const fail = (line: number, message: string) => errors.push(`${file}:${line}: ${message}`);
  let inList = false;
  let types = 0;
  const raw: Array<{ type: string; words: string[]; line: number }> = [];
  text.split(/\r?\n/).forEach((original, i) => {
    const line = i + 1;
    const content = original.replace(/#.*$/, '').trim();
    if (content === '') return;
    if (/^\[.*\]$/.test(content)) {
      inList = content.toLowerCase() === '[proxylist]';
      if (!inList) conf.warnings.push(`${file}:${line}: section ${content} is not read (only [ProxyList])`);
      return;
    }
    const words = content.split(/\s+/);
    const keyword = words[0]!.toLowerCase().replace(/=.*$/, '');
    if (inList) {
      raw.push({ type: keyword, words, line });
      return;
    }
    if (keyword === 'strict_chain' || keyword === 'dynamic_chain' || keyword === 'random_chain' || keyword === 'round_robin_chain') {
      types++;
      conf.chain = keyword === 'round_robin_chain' ? 'random_chain' : keyword;
      conf.chainLine = line;
      if (keyword === 'round_robin_chain') conf.warnings.push(`${file}:${line}: round_robin_chain is read as random_chain (burrow keeps no state between runs)`);
      return;
    }
    if (keyword === 'chain_len') {
      const value = /^chain_len\s*=?\s*(\d+)$/i.exec(content)?.[1];
      if (value === undefined || Number(value) < 1) fail(line, 'chain_len must be a whole number, at least 1 (chain_len = 2)');
      else conf.chainLen = Number(value);
      return;
    }
    if (keyword === 'proxy_dns') {
      conf.proxyDns = true;
      return;
    }
    if (keyword === 'localnet') {
      const parsed = parseLocalnet(words[1] ?? '');
      if (!parsed) fail(line, `localnet "${words[1] ?? ''}" is not ADDRESS[:PORT]/MASK (e.g. 10.0.0.0/255.0.0.0 or 10.0.0.0/8)`);
      else conf.localnets.push({ text: words[1]!, ...parsed, line });
      return;
    }
    if (keyword === 'dnat') {
      conf.warnings.push(`${file}:${line}: dnat is not supported and is ignored`);
      return;
    }
    if (IGNORED.has(keyword)) return;
    conf.warnings.push(`${file}:${line}: unknown option "${words[0]}" ignored`);
  });
  if (types > 1) conf.warnings.push(`${file}: several chain types are set; the last one (${conf.chain}, line ${conf.chainLine}) applies`);

  for (const { type, words, line } of raw) {
    if (type !== 'http' && type !== 'socks4' && type !== 'socks5') {
      fail(line, `proxy type "${words[0]}" is not supported (burrow reads http, socks4 and socks5)`);
      continue;
    }
    if (words.length !== 3 && words.length !== 5) {
      fail(line, `expected "${type} HOST PORT [USER PASSWORD]", got ${words.length} words`);
      continue;
    }
    const host = words[1]!.replace(/^\[|\]$/g, '');
    if (/[/\\@#?\u0000-\u001f]/.test(host) || (host.includes(':') && isIP(host) !== 6)) {
      fail(line, `"${words[1]}" is not a host name or IP address`);
      continue;
    }
    const port = Number(words[2]);
    if (!/^\d{1,5}$/.test(words[2]!) || port < 1 || port > 65535) {
      fail(line, `port "${words[2]}" is not a number from 1 to 65535`);
      continue;
    }
    // proxy_dns: proxychains sends names to the proxy; without it, names are resolved here (as socks4/socks5 do).
    const scheme = type === 'http' ? 'http' : type === 'socks4' ? (conf.proxyDns ? 'socks4a' : 'socks4') : conf.proxyDns ? 'socks5h' : 'socks5';
    const proxy: ProxyEndpoint = { scheme, host: host.toLowerCase(), port, schemeless: false };
    if (words.length === 5) {
      proxy.username = words[3]!;
      proxy.password = words[4]!;
      registerSecret(proxy.password);
    }
    conf.proxies.push({ proxy, line });
  }
  if (errors.length === 0 && conf.proxies.length === 0) fail(raw.length ? raw[0]!.line : 1, 'the [ProxyList] section lists no proxy');
  if (conf.chain === 'random_chain' && conf.chainLen > conf.proxies.length && conf.proxies.length > 0) {
    conf.warnings.push(`${file}: chain_len ${conf.chainLen} is more than the ${conf.proxies.length} proxies listed; all of them are used`);
  }
  if (errors.length > 0) {
    throw new BurrowError('usage', `the proxychains file ${file} is not valid:\n  ${errors.slice(0, 10).join('\n  ')}`, {
      hint: 'burrow reads the [ProxyList] entries "http|socks4|socks5 HOST PORT [USER PASSWORD]" and strict_chain, dynamic_chain, random_chain, chain_len, proxy_dns, localnet',
    });
  }
  return conf;
}

function parseLocalnet(text: string): { cidr: Cidr; port?: number } | undefined {
  const match = /^([0-9.]+)(?::(\d{1,5}))?\/([0-9.]+)$/.exec(text);
  if (!match) return undefined;
  const [, address, portText, maskText] = match;
  let prefix: number | undefined;
  if (/^\d{1,2}$/.test(maskText!)) prefix = Number(maskText);
  else {
    const mask = parseIp(maskText!);
    if (mask?.length !== 4) return undefined;
    const bits = [...mask].map((b) => b.toString(2).padStart(8, '0')).join('');
    if (!/^1*0*$/.test(bits)) return undefined;
    prefix = bits.indexOf('0') < 0 ? 32 : bits.indexOf('0');
  }
  const cidr = parseCidr(`${address}/${prefix}`);
  if (!cidr) return undefined;
  return { cidr, ...(portText ? { port: Number(portText) } : {}) };
}

/** The localnet entry that sends this target direct (IP-literal targets only, as in proxychains). */
export function matchLocalnet(conf: ProxychainsConf, target: Target): string | undefined {
  const ip = parseIp(target.host);
  if (!ip) return undefined;
  return conf.localnets.find((l) => cidrContains(l.cidr, ip) && (l.port === undefined || l.port === target.port))?.text;
}

/** The one alternative the file describes; `random` picks for random_chain (Math.random unless a test gives one). */
export function proxychainsAlternative(conf: ProxychainsConf, random: () => number = Math.random): RouteAlternative {
  const where = `${conf.file}${conf.chainLine ? `:${conf.chainLine}` : ''}`;
  const all = conf.proxies.map((p) => p.proxy);
  if (conf.chain === 'random_chain') {
    const pool = [...all];
    const picked: ProxyEndpoint[] = [];
    while (picked.length < Math.min(conf.chainLen, all.length)) picked.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
    return {
      hops: picked,
      source: { kind: 'proxychains' },
      reason: `random_chain in ${where}: ${formatHops(picked, ' then ')}, picked at random (chain_len ${conf.chainLen}) from ${all.length} proxies`,
    };
  }
  const list = formatHops(all, ' then ');
  if (conf.chain === 'strict_chain') {
    return { hops: all, source: { kind: 'proxychains' }, reason: `strict_chain in ${where}: ${list}, every hop required` };
  }
  return {
    hops: all,
    source: { kind: 'proxychains' },
    reason: `dynamic_chain in ${conf.chainLine ? where : `${conf.file} (no chain type given: proxychains-ng's default)`}: ${list}; a hop that refuses or cannot be reached is skipped`,
    skipDeadHops: true,
  };
}
