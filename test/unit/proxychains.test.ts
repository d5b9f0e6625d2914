import { describe, expect, it } from 'vitest';
import { BurrowError, type FailurePhase } from '../../src/errors.ts';
import { deadHop } from '../../src/dial/dial.ts';
import { displayProxy } from '../../src/route/proxy-url.ts';
import { matchLocalnet, parseProxychainsConf, proxychainsAlternative } from '../../src/route/proxychains.ts';
import { makeTarget } from '../../src/route/target.ts';

const FILE = '/etc/proxychains.conf';

// A stock proxychains-ng file, trimmed: comments, options, [ProxyList].
const STOCK = `# proxychains.conf  VER 4.x
#
#dynamic_chain
strict_chain
#random_chain
#chain_len = 2
#quiet_mode
proxy_dns
remote_dns_subnet 224
tcp_read_time_out 15000
tcp_connect_time_out 8000
localnet 127.0.0.0/255.0.0.0
localnet 10.0.0.0/8

[ProxyList]
# add proxy here ...
http    192.168.39.93 8080
socks5  192.168.67.78 1080 lamer secret
socks4  proxy.corp    1081   # a comment
`;

describe('parseProxychainsConf', () => {
  it('reads a stock file', () => {
    const conf = parseProxychainsConf(STOCK, FILE);
    expect(conf.chain).toBe('strict_chain');
    expect(conf.chainLine).toBe(4);
    expect(conf.proxyDns).toBe(true);
    expect(conf.proxies.map((p) => [displayProxy(p.proxy), p.line])).toEqual([
      ['http://192.168.39.93:8080', 17],
      ['socks5h://192.168.67.78:1080', 18],
      ['socks4a://proxy.corp:1081', 19],
    ]);
    expect(conf.proxies[1]!.proxy).toMatchObject({ username: 'lamer', password: 'secret' });
    expect(conf.localnets.map((l) => l.text)).toEqual(['127.0.0.0/255.0.0.0', '10.0.0.0/8']);
    expect(conf.warnings).toEqual([]);
  });

  type Row = [why: string, text: string, check: (conf: ReturnType<typeof parseProxychainsConf>) => void];
  const rows: Row[] = [
    ['no chain type: dynamic_chain, as proxychains-ng', '[ProxyList]\nhttp 1.2.3.4 80\n', (c) => expect([c.chain, c.chainLine]).toEqual(['dynamic_chain', 0])],
    ['without proxy_dns, SOCKS resolves locally', 'strict_chain\n[ProxyList]\nsocks5 1.2.3.4 1080\nsocks4 1.2.3.4 1081\n', (c) => expect(c.proxies.map((p) => p.proxy.scheme)).toEqual(['socks5', 'socks4'])],
    ['random_chain with chain_len', 'random_chain\nchain_len = 2\n[ProxyList]\nhttp a 1\nhttp b 2\nhttp c 3\n', (c) => expect([c.chain, c.chainLen]).toEqual(['random_chain', 2])],
    ['chain_len without spaces', 'random_chain\nchain_len=3\n[ProxyList]\nhttp a 1\nhttp b 2\nhttp c 3\n', (c) => expect(c.chainLen).toBe(3)],
    ['round_robin_chain is random_chain, with a warning', 'round_robin_chain\n[ProxyList]\nhttp a 1\n', (c) => {
      expect(c.chain).toBe('random_chain');
      expect(c.warnings[0]).toMatch(/:1: round_robin_chain is read as random_chain/);
    }],
    ['the last chain type wins, with a warning', 'strict_chain\ndynamic_chain\n[ProxyList]\nhttp a 1\n', (c) => {
      expect(c.chain).toBe('dynamic_chain');
      expect(c.warnings[0]).toMatch(/several chain types/);
    }],
    ['unknown options are warned about', 'strict_chain\nfrobnicate 3\ndnat 1.1.1.1 2.2.2.2\n[ProxyList]\nhttp a 1\n', (c) => {
      expect(c.warnings).toHaveLength(2);
      expect(c.warnings[0]).toMatch(/:2: unknown option "frobnicate"/);
      expect(c.warnings[1]).toMatch(/:3: dnat is not supported/);
    }],
    ['CRLF line ends', 'strict_chain\r\n[ProxyList]\r\nhttp a 1\r\n', (c) => expect(c.proxies).toHaveLength(1)],
    ['IPv6 proxy', 'strict_chain\n[ProxyList]\nsocks5 ::1 1080\n', (c) => expect(displayProxy(c.proxies[0]!.proxy)).toBe('socks5://[::1]:1080')],
    ['localnet with a port', 'strict_chain\nlocalnet 192.168.1.0:80/255.255.255.0\n[ProxyList]\nhttp a 1\n', (c) => expect(c.localnets[0]!.port).toBe(80)],
  ];
  it.each(rows)('%s', (_why, text, check) => check(parseProxychainsConf(text, FILE)));

  type ErrorRow = [why: string, text: string, line: number, message: RegExp];
  const errorRows: ErrorRow[] = [
    ['no proxies', 'strict_chain\n[ProxyList]\n', 1, /lists no proxy/],
    ['raw type', 'strict_chain\n[ProxyList]\nraw 1.2.3.4 80\n', 3, /proxy type "raw" is not supported/],
    ['missing port', 'strict_chain\n[ProxyList]\nhttp 1.2.3.4\n', 3, /expected "http HOST PORT \[USER PASSWORD\]", got 2 words/],
    ['user without password', 'strict_chain\n[ProxyList]\nhttp 1.2.3.4 80 user\n', 3, /got 4 words/],
    ['bad port', 'strict_chain\n[ProxyList]\nsocks5 1.2.3.4 99999\n', 3, /port "99999"/],
    ['bad host', 'strict_chain\n[ProxyList]\nhttp a/b 80\n', 3, /not a host name/],
    ['bad chain_len', 'random_chain\nchain_len = x\n[ProxyList]\nhttp a 1\n', 2, /chain_len must be/],
    ['bad localnet', 'strict_chain\nlocalnet 10.0.0.0/255.0.255.0\n[ProxyList]\nhttp a 1\n', 2, /localnet "10.0.0.0\/255.0.255.0"/],
  ];
  it.each(errorRows)('rejects: %s', (_why, text, line, message) => {
    let error: unknown;
    try {
      parseProxychainsConf(text, FILE);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BurrowError);
    const burrowError = error as BurrowError;
    expect(burrowError.exitCode).toBe(2);
    const hit = burrowError.message.split('\n').find((l) => message.test(l));
    expect(hit, burrowError.message).toBeDefined();
    expect(hit!.trim().startsWith(`${FILE}:${line}: `)).toBe(true);
  });

  it('never shows a password from the file', () => {
    let error: unknown;
    try {
      parseProxychainsConf('strict_chain\n[ProxyList]\nhttp a 1 alice Sw0rdf1sh\nbogus x 1\n', FILE);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).not.toContain('Sw0rdf1sh');
  });
});

describe('proxychainsAlternative', () => {
  const list = '[ProxyList]\nhttp a 1\nsocks5 b 2\nhttp c 3\n';
  it('strict_chain: every hop, in order', () => {
    const alternative = proxychainsAlternative(parseProxychainsConf(`strict_chain\n${list}`, FILE));
    expect(alternative.hops.map(displayProxy)).toEqual(['http://a:1', 'socks5://b:2', 'http://c:3']);
    expect(alternative.skipDeadHops).toBeUndefined();
    expect(alternative.reason).toContain(`strict_chain in ${FILE}:1`);
  });
  it('dynamic_chain: every hop, dead ones skipped when dialing', () => {
    const alternative = proxychainsAlternative(parseProxychainsConf(`dynamic_chain\n${list}`, FILE));
    expect(alternative.hops).toHaveLength(3);
    expect(alternative.skipDeadHops).toBe(true);
  });
  it('random_chain: chain_len hops picked at random', () => {
    const conf = parseProxychainsConf(`random_chain\nchain_len = 2\n${list}`, FILE);
    const picks = [0.99, 0.0];
    const alternative = proxychainsAlternative(conf, () => picks.shift()!);
    expect(alternative.hops.map(displayProxy)).toEqual(['http://c:3', 'http://a:1']);
    expect(alternative.reason).toMatch(/random_chain.*chain_len 2.*3 proxies/);
  });
  it('localnet sends IP-literal targets direct, names never', () => {
    const conf = parseProxychainsConf(`strict_chain\nlocalnet 10.0.0.0/255.0.0.0\nlocalnet 192.168.1.0:80/24\n${list}`, FILE);
    expect(matchLocalnet(conf, makeTarget('10.2.3.4', 22))).toBe('10.0.0.0/255.0.0.0');
    expect(matchLocalnet(conf, makeTarget('192.168.1.7', 80))).toBe('192.168.1.0:80/24');
    expect(matchLocalnet(conf, makeTarget('192.168.1.7', 22))).toBeUndefined();
    expect(matchLocalnet(conf, makeTarget('ten.example', 22))).toBeUndefined();
  });
});

// dynamic_chain's dialer: which hop an error shows to be dead, from the hop and phase dial() stamps on it.
describe('deadHop', () => {
  const hops = parseProxychainsConf('strict_chain\n[ProxyList]\nhttp a 1\nhttp b 2\nhttp c 3\n', FILE).proxies.map((p) => p.proxy);
  type Facts = { phase?: FailurePhase; hop?: number; timedOut?: boolean };
  const error = (kind: 'unreachable' | 'refused' | 'auth', { phase, hop, timedOut }: Facts) =>
    new BurrowError(kind, 'x', { ...(phase ? { phase } : {}), ...(hop !== undefined ? { hop: { index: hop, endpoint: displayProxy(hops[hop]!) } } : {}), ...(timedOut ? { timedOut } : {}) });
  it.each([
    ['the first hop refuses TCP', error('unreachable', { phase: 'proxy-connect', hop: 0 }), 0],
    ['the first hop cannot reach the second (502)', error('refused', { phase: 'proxy-handshake', hop: 0 }), 1],
    ['the second hop cannot reach the third', error('refused', { phase: 'proxy-handshake', hop: 1 }), 2],
    ['the second hop\'s TLS fails', error('unreachable', { phase: 'proxy-tls', hop: 1 }), 1],
    ['the connection to the second hop breaks mid-handshake', error('unreachable', { phase: 'proxy-closed', hop: 1 }), 1],
    ['the last hop cannot reach the target: not a dead hop', error('refused', { phase: 'proxy-handshake', hop: 2 }), -1],
    ['authentication is not death', error('auth', { phase: 'proxy-auth', hop: 0 }), -1],
    ['a timeout is not death (the budget is spent)', error('unreachable', { phase: 'proxy-connect', hop: 0, timedOut: true }), -1],
    ['a failure with no hop (direct)', error('unreachable', { phase: 'target-connect' }), -1],
  ] as const)('%s', (_why, e, index) => {
    expect(deadHop(e, hops.length)).toBe(index);
  });
});
