// One route policy, one answer (#9): for each configuration — flags, BURROW_PROXY, config rules and default, a PAC
// file, proxychains.conf, the proxy variables in both cases, NO_PROXY forms, loopback targets — `burrow route
// --json`, doctor's in_route path, `tsh --dry-run` and the hop `burrow connect` actually dials agree. The proxies are
// Node CONNECT proxies that log every request (test/helpers/wrap-peers.ts startPolicyProxy, behaving like squid for
// CONNECT); for the proxied configurations the log shows which proxy connect really used.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/types.ts';
import { startBannerServer, type Peer } from '../helpers/node-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { startPolicyProxy, type PolicyProxy } from '../helpers/wrap-peers.ts';

const NAMES = ['a.example', 'b.corp.example', 'c.example', 'jump.example'];

interface Setting {
  args?: string[];
  env?: Record<string, string>;
}

/** One configuration: what is set, the target, and the route every command must agree on (proxy indexes or direct). */
type Row = [name: string, setting: () => Setting, host: string, expected: number[] | 'direct', source: string];

describe('every command takes the route the policy gives', () => {
  const peers: Array<{ close(): Promise<void> }> = [];
  const track = async <T extends { close(): Promise<void> }>(peer: Promise<T>): Promise<T> => {
    const started = await peer;
    peers.push(started);
    return started;
  };
  const proxies: PolicyProxy[] = [];
  let target: Peer;
  let dir: string;
  const url = (i: number) => `http://127.0.0.1:${proxies[i]!.port}`;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    target = await track(startBannerServer('SSH-2.0-agreement\r\n'));
    const hosts = Object.fromEntries(NAMES.map((n) => [n, '127.0.0.1']));
    for (let i = 0; i < 3; i++) proxies.push(await track(startPolicyProxy({ hosts })));
    dir = mkdtempSync(join(tmpdir(), 'burrow-agreement-'));
  });
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const config = () =>
    file(
      'config.yaml',
      [
        'proxies:',
        `  one: ${url(1)}`,
        `  two: ${url(2)}`,
        'rules:',
        '  - hosts: "*.corp.example"',
        '    proxy: two',
        '  - hosts: c.example',
        '    direct: true',
        'default: [one]',
        'no_proxy: jump.example',
      ].join('\n'),
    );
  const pac = () => file('proxy.pac', `function FindProxyForURL(url, host) { return dnsDomainIs(host, ".corp.example") ? "PROXY 127.0.0.1:${proxies[2]!.port}" : host === "c.example" ? "DIRECT" : "PROXY 127.0.0.1:${proxies[1]!.port}"; }\n`);
  const proxychains = () => file('proxychains.conf', `strict_chain\nlocalnet 10.0.0.0/255.0.0.0\n[ProxyList]\nhttp 127.0.0.1 ${proxies[1]!.port}\n`);

  const rows: Row[] = [
    ['HTTPS_PROXY', () => ({ env: { HTTPS_PROXY: url(0) } }), 'a.example', [0], 'HTTPS_PROXY'],
    ['https_proxy (lower case)', () => ({ env: { https_proxy: url(1) } }), 'a.example', [1], 'https_proxy'],
    ['HTTPS_PROXY wins over https_proxy', () => ({ env: { HTTPS_PROXY: url(0), https_proxy: url(1) } }), 'a.example', [0], 'HTTPS_PROXY'],
    ['ALL_PROXY', () => ({ env: { ALL_PROXY: url(2) } }), 'a.example', [2], 'ALL_PROXY'],
    ['HTTP_PROXY', () => ({ env: { HTTP_PROXY: url(1) } }), 'a.example', [1], 'HTTP_PROXY'],
    ['HTTPS_PROXY before ALL_PROXY', () => ({ env: { ALL_PROXY: url(2), HTTPS_PROXY: url(0) } }), 'a.example', [0], 'HTTPS_PROXY'],
    ['NO_PROXY domain', () => ({ env: { HTTPS_PROXY: url(0), NO_PROXY: 'example' } }), 'a.example', 'direct', 'NO_PROXY'],
    ['no_proxy leading dot', () => ({ env: { HTTPS_PROXY: url(0), no_proxy: '.corp.example' } }), 'b.corp.example', 'direct', 'no_proxy'],
    ['NO_PROXY host:port, other port', () => ({ env: { HTTPS_PROXY: url(0), NO_PROXY: 'a.example:1' } }), 'a.example', [0], 'HTTPS_PROXY'],
    ['NO_PROXY *', () => ({ env: { HTTPS_PROXY: url(0), NO_PROXY: '*' } }), 'a.example', 'direct', 'NO_PROXY'],
    ['loopback target with HTTPS_PROXY', () => ({ env: { HTTPS_PROXY: url(0) } }), '127.0.0.1', 'direct', 'loopback'],
    ['localhost target with ALL_PROXY', () => ({ env: { ALL_PROXY: url(0) } }), 'localhost', 'direct', 'loopback'],
    ['BURROW_PROXY beats HTTPS_PROXY', () => ({ env: { BURROW_PROXY: url(2), HTTPS_PROXY: url(0) } }), 'a.example', [2], 'BURROW_PROXY'],
    ['BURROW_PROXY chain', () => ({ env: { BURROW_PROXY: `${url(0)},${url(1)}` } }), 'a.example', [0, 1], 'BURROW_PROXY'],
    ['--proxy beats the variables', () => ({ args: ['-x', url(1)], env: { HTTPS_PROXY: url(0) } }), 'a.example', [1], '--proxy'],
    ['--proxy ignores NO_PROXY', () => ({ args: ['-x', url(1)], env: { NO_PROXY: 'a.example' } }), 'a.example', [1], '--proxy'],
    ['--proxy with --no-proxy', () => ({ args: ['-x', url(1), '--no-proxy=a.example'] }), 'a.example', 'direct', '--no-proxy'],
    ['--proxy applies to loopback', () => ({ args: ['-x', url(2)] }), '127.0.0.1', [2], '--proxy'],
    ['--direct beats everything', () => ({ args: ['--direct'], env: { HTTPS_PROXY: url(0) } }), 'a.example', 'direct', '--direct'],
    ['config rule', () => ({ args: ['--config', config()], env: { HTTPS_PROXY: url(0) } }), 'b.corp.example', [2], 'config'],
    ['config rule: direct', () => ({ args: ['--config', config()] }), 'c.example', 'direct', 'config'],
    ['config default', () => ({ args: ['--config', config()], env: { HTTPS_PROXY: url(0) } }), 'a.example', [1], 'config'],
    ['config no_proxy', () => ({ args: ['--config', config()] }), 'jump.example', 'direct', 'config'],
    ['config default never for loopback', () => ({ args: ['--config', config()] }), '127.0.0.1', 'direct', 'loopback'],
    ['PAC', () => ({ args: ['--pac', pac()], env: { HTTPS_PROXY: url(0) } }), 'b.corp.example', [2], 'PAC'],
    ['PAC DIRECT', () => ({ args: ['--pac', pac()] }), 'c.example', 'direct', 'PAC'],
    ['BURROW_PAC', () => ({ env: { BURROW_PAC: pac() } }), 'a.example', [1], 'PAC'],
    ['BURROW_PROXY beats a PAC file', () => ({ args: ['--pac', pac()], env: { BURROW_PROXY: url(0) } }), 'a.example', [0], 'BURROW_PROXY'],
    ['proxychains.conf', () => ({ args: ['--proxychains-conf', proxychains()], env: { HTTPS_PROXY: url(0) } }), 'a.example', [1], '--proxychains-conf'],
    ['nothing configured', () => ({}), 'a.example', 'direct', 'default'],
  ];

  it.each(rows)('%s', async (_name, setting, host, expected, source) => {
    const { args = [], env = {} } = setting();
    // A HOME (so a state directory: dead proxies, PAC answers, what a proxy asked for) of the row's own: no row
    // may see what an earlier one remembered.
    const home = mkdtempSync(join(dir, 'home-'));
    const environment = cleanEnv({ ...env, HOME: home, XDG_CONFIG_HOME: join(home, 'no-config') });
    const port = target.port;
    const hops = expected === 'direct' ? [] : expected.map(url);

    // burrow route --json
    const route = await runBurrow(['route', ...args, host, String(port), '--json'], { env: environment });
    expect(route.code, route.stderr.toString()).toBe(0);
    const plan = JSON.parse(route.stdout.toString()) as { plan: Array<{ hops: string[]; source: string }> };
    expect(plan.plan[0]).toMatchObject({ hops, source });

    // doctor: the path it marks in_route, and the route it reports
    const doctor = await runBurrow(['doctor', ...args, '--json', '-q', '--timeout', '20', '--connect-timeout', '3', `${host.includes(':') ? `[${host}]` : host}:${port}`], { env: environment });
    const report = JSON.parse(doctor.stdout.toString()) as DoctorReport;
    const checked = report.targets[0]!;
    expect(checked.route.plan[0]).toMatchObject({ hops, source });
    expect(checked.paths.find((p) => p.in_route)?.hops, JSON.stringify(checked.paths.map((p) => [p.via, p.in_route]))).toEqual(hops);

    // tsh --dry-run: the route burrow gives the Teleport proxy's address
    const tsh = await runBurrow(['tsh', ...args, '--tsh', '/bin/true', '--no-probe', '--dry-run', '--', 'login', `--proxy=${host}:${port}`], { env: environment });
    expect(tsh.code, tsh.stderr.toString()).toBe(0);
    expect(tsh.stdout.toString()).toContain(`burrow's route to it: ${hops.length ? hops.join(' -> ') : 'direct'} (from ${source})`);

    // connect: which proxy it really asked (their logs), and the target's banner at the end of the tunnel
    for (const proxy of proxies) proxy.log.length = 0;
    const connect = await runBurrow(['connect', ...args, '--connect-timeout', '5', host, String(port)], { env: environment, input: '' });
    const asked = proxies.flatMap((proxy, i) => proxy.log.map((line) => `${i} ${line}`));
    if (expected === 'direct') {
      expect(asked).toEqual([]);
      // Names exist only in the proxies' hosts tables: a direct connect reaches loopback targets alone.
      if (host === '127.0.0.1' || host === 'localhost') expect(connect.stdout.toString()).toContain('SSH-2.0-agreement');
    } else {
      expect(connect.stdout.toString(), connect.stderr.toString()).toContain('SSH-2.0-agreement');
      // The first hop saw the CONNECT to the next hop (or to the target): the chain connect walked.
      const next = (i: number) => (i + 1 < expected.length ? `127.0.0.1:${proxies[expected[i + 1]!]!.port}` : `${host}:${port}`);
      expect(asked, asked.join('\n')).toEqual(expected.map((p, i) => expect.stringMatching(new RegExp(`^${p} CONNECT ${next(i).replace(/\./g, '\\.')} `))));
    }
  });
});
