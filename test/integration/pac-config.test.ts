// PAC files, the config file and proxychains.conf, end to end through bin/burrow with Node peers on 127.0.0.1:
// failover from a dead proxy to a working one within the per-alternative limit, `burrow route --json` explaining
// PAC and config decisions, config rules that pick chains and direct, dynamic_chain skipping a dead hop, a PAC
// fetched over http with its size and time bounds.
//
// Proxies never apply to loopback targets by PAC or config default (as with the environment), so proxied cases
// use the name sshd.burrow.test, which only the test proxies resolve (to 127.0.0.1).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closedPort, startBlackHole } from '../helpers/doctor-peers.ts';
import { startConnectProxy, startEchoServer, startSocks5Server, startSshServer } from '../helpers/node-peers.ts';
import { HAVE_SSH, runSsh } from '../helpers/openssh-client.ts';
import { BURROW, cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';
import { startPacServer, type PacServer } from '../helpers/pac-server.ts';

const track = trackPeers();
const NAME = 'sshd.burrow.test';
const HOSTS = { [NAME]: '127.0.0.1' };

const dir = mkdtempSync(join(tmpdir(), 'burrow-pac-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function write(name: string, text: string): string {
  const file = join(dir, `${++files}-${name}`);
  writeFileSync(file, text);
  return file;
}
const pacReturning = (answer: string) => write('proxy.pac', `function FindProxyForURL(url, host) {\n  return ${JSON.stringify(answer)};\n}\n`);

interface RoutePlanJson {
  target: string;
  plan: Array<{ hops: string[]; source: string; reason: string; rule?: { file: string; line: number; rule: number | 'default' }; pac?: { url: string; answer: string; from: string } }>;
  warnings: string[];
}

async function routeJson(args: string[], env = cleanEnv()): Promise<RoutePlanJson> {
  const result = await runBurrow(['route', ...args, '--json'], { env, input: '' });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.toString()) as RoutePlanJson;
}

/** A PAC server with a body for each path, 404 for others, and silence (never answers) for "/hang". */
function pacServerFor(bodies: Record<string, string>): Promise<PacServer> {
  return startPacServer(({ path }) => (path === '/hang' ? 'hang' : bodies[path] === undefined ? { status: 404 } : { body: bodies[path] }));
}

describe('PAC failover', () => {
  it('a PAC listing a dead proxy (no answer) first and a working one second connects through the second', async () => {
    const dead = await track(startBlackHole());
    const good = await track(startConnectProxy({ hosts: HOSTS }));
    const target = await track(startEchoServer());
    const pac = pacReturning(`PROXY 127.0.0.1:${dead.port}; PROXY 127.0.0.1:${good.port}`);
    // The whole budget (--connect-timeout 20) is far above the per-alternative limit: only the latter can explain
    // reaching the second proxy.
    const result = await runBurrow(['connect', '-v', '--pac', pac, '--alternative-timeout', '1', NAME, String(target.port)], { input: 'through the second', killAfterMs: 15_000 });
    expect(result.stdout.toString()).toBe('through the second');
    expect(result.code).toBe(0);
    expect(dead.connections).toBe(1);
    expect(good.requests.map((r) => r.requestLine)).toEqual([`CONNECT ${NAME}:${target.port} HTTP/1.1`]);
    expect(result.stderr).toMatch(/route alternative failed/);
    expect(result.stderr).toMatch(/timed out after 1 s/);
    expect(result.stderr).toMatch(/route alternative open/);
  });

  it('a refused proxy fails over at once, and BURROW_PAC works like --pac', async () => {
    const refused = await closedPort();
    const good = await track(startConnectProxy({ hosts: HOSTS }));
    const target = await track(startEchoServer());
    const env = cleanEnv({ BURROW_PAC: pacReturning(`PROXY 127.0.0.1:${refused}; SOCKS5 127.0.0.1:1; PROXY 127.0.0.1:${good.port}; DIRECT`) });
    const result = await runBurrow(['connect', NAME, String(target.port)], { env, input: 'refused first' });
    expect(result.stdout.toString()).toBe('refused first');
    expect(result.code).toBe(0);
    expect(good.requests).toHaveLength(1);
  });

  it('when every alternative fails: the most telling error, and the list of what was tried', async () => {
    const refused = await closedPort();
    const forbidding = await track(startConnectProxy({ refuse: { statusLine: 'HTTP/1.1 403 Forbidden' } }));
    const pac = pacReturning(`PROXY 127.0.0.1:${refused}; PROXY 127.0.0.1:${forbidding.port}`);
    const result = await runBurrow(['connect', '--pac', pac, NAME, '22'], { input: '' });
    expect(result.code).toBe(3);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toContain('403');
    expect(result.stderr).toMatch(/All 2 route alternatives failed \(http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED; http:\/\/127\.0\.0\.1:\d+: HTTP\/1\.1 403 Forbidden\)/);
  });

  it('fetches a PAC over http directly (not through HTTPS_PROXY) and reads it once per run', async () => {
    const good = await track(startConnectProxy({ hosts: HOSTS }));
    const decoy = await track(startConnectProxy());
    const target = await track(startEchoServer());
    const server = await track(pacServerFor({ '/proxy.pac': `function FindProxyForURL(u, h) { return "PROXY 127.0.0.1:${good.port}"; }` }));
    const env = cleanEnv({ HTTPS_PROXY: decoy.url, HTTP_PROXY: decoy.url });
    const result = await runBurrow(['connect', '--pac', `${server.url}/proxy.pac`, NAME, String(target.port)], { env, input: 'fetched' });
    expect(result.stdout.toString()).toBe('fetched');
    expect(server.requests.map((r) => r.path)).toEqual(['/proxy.pac']);
    expect(decoy.requests).toEqual([]);
  });

  it('bounds a PAC URL: 404, more than 1 MiB, and a server that never answers (timeouts.pac)', async () => {
    const server = await track(pacServerFor({ '/big.pac': `// ${'x'.repeat(1024 * 1024 + 10)}\nfunction FindProxyForURL(u, h) { return "DIRECT"; }` }));
    const missing = await runBurrow(['route', '--pac', `${server.url}/nope.pac`, NAME, '22'], { input: '' });
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toContain('HTTP 404');
    const big = await runBurrow(['route', '--pac', `${server.url}/big.pac`, NAME, '22'], { input: '' });
    expect(big.code, big.stderr).toBe(2);
    expect(big.stderr).toMatch(/more than the 1048576/);
    const config = write('config.yaml', 'timeouts:\n  pac: 0.5\n');
    const hang = await runBurrow(['route', '--config', config, '--pac', `${server.url}/hang`, NAME, '22'], { input: '', killAfterMs: 15_000 });
    expect(hang.code).toBe(5);
    expect(hang.stderr).toMatch(/no complete answer within 0\.5 s/);
  });
});

describe('burrow route --json explains PAC and config decisions', () => {
  it('PAC: each alternative in order, with the answer and the URL asked', async () => {
    const pac = pacReturning('PROXY a.example:3128; SOCKS5 b.example:1080; DIRECT');
    const json = await routeJson(['--pac', pac, 'jump.example.org', '22']);
    expect(json.target).toBe('jump.example.org:22');
    expect(json.plan.map((p) => [p.hops, p.source])).toEqual([
      [['http://a.example:3128'], 'PAC'],
      [['socks5h://b.example:1080'], 'PAC'],
      [[], 'PAC'],
    ]);
    expect(json.plan[0]!.pac).toEqual({ location: pac, from: '--pac', url: 'https://jump.example.org:22/', answer: 'PROXY a.example:3128; SOCKS5 b.example:1080; DIRECT' });
    expect(json.plan[0]!.reason).toContain('answered "PROXY a.example:3128; SOCKS5 b.example:1080; DIRECT"');
  });

  it('config: the rule that matched (file, line, index), or the default', async () => {
    const config = write(
      'config.yaml',
      ['proxies:', '  corp: http://proxy.corp:3128', 'rules:', '  - name: the jump host', '    hosts: jump.example.org', '    ports: [22]', '    chain: [corp, "socks5h://socks.corp:1080"]', 'default: [corp, direct]', ''].join('\n'),
    );
    const env = cleanEnv({ HTTPS_PROXY: 'http://env.proxy:8080' });
    const rule = await routeJson(['--config', config, 'jump.example.org', '22'], env);
    expect(rule.plan).toHaveLength(1);
    expect(rule.plan[0]).toMatchObject({ hops: ['http://proxy.corp:3128', 'socks5h://socks.corp:1080'], source: 'config', rule: { file: config, line: 4, rule: 1 } });
    expect(rule.plan[0]!.reason).toContain(`rule 1 (the jump host) at ${config}:4`);
    const fallback = await routeJson(['--config', config, 'www.example.org', '443'], env);
    expect(fallback.plan.map((p) => [p.hops, p.source, p.rule?.rule])).toEqual([
      [['http://proxy.corp:3128'], 'config', 'default'],
      [[], 'config', 'default'],
    ]);
  });

  it('the default config file is read from $XDG_CONFIG_HOME/burrow/config.yaml', async () => {
    const home = mkdtempSync(join(dir, 'xdg-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(home, 'burrow'));
    writeFileSync(join(home, 'burrow', 'config.yaml'), 'default: http://from.config:3128\n');
    const json = await routeJson(['a.example', '22'], cleanEnv({ XDG_CONFIG_HOME: home }));
    expect(json.plan[0]).toMatchObject({ hops: ['http://from.config:3128'], source: 'config' });
  });

  it('a bad config file: exit 2 and FILE:LINE in the message', async () => {
    const config = write('config.yaml', 'rules:\n  - hosts: a.example\n    via: [nosuch]\n');
    const result = await runBurrow(['connect', '--config', config, 'a.example', '22'], { input: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${config}:3: rule 1 via: "nosuch" is not a name under proxies:`);
  });
});

describe('config rules pick chains and direct', () => {
  it('a rule chains HTTP then SOCKS5 for one host, another sends a host direct, the default takes the rest', async () => {
    const http = await track(startConnectProxy({ hosts: HOSTS }));
    const socks = await track(startSocks5Server(undefined, HOSTS));
    const other = await track(startConnectProxy({ hosts: { 'other.burrow.test': '127.0.0.1' } }));
    const target = await track(startEchoServer());
    const config = write(
      'config.yaml',
      [
        'proxies:',
        `  web: ${http.url}`,
        `  socks: socks5h://127.0.0.1:${socks.port}`,
        `  other: ${other.url}`,
        'rules:',
        `  - hosts: ["${NAME}"]`,
        `    ports: [${target.port}]`,
        '    chain: [web, socks]',
        '  - hosts: [127.0.0.1]',
        '    direct: true',
        'default: other',
        '',
      ].join('\n'),
    );
    const env = cleanEnv({ XDG_CONFIG_HOME: join(dir, 'unused'), HTTPS_PROXY: 'http://127.0.0.1:1' });
    const chained = await runBurrow(['connect', '--config', config, NAME, String(target.port)], { env, input: 'chained' });
    expect(chained.stdout.toString()).toBe('chained');
    expect(http.requests.map((r) => r.requestLine)).toEqual([`CONNECT 127.0.0.1:${socks.port} HTTP/1.1`]);
    expect(socks.requests).toEqual([`domain ${NAME}`]);

    const direct = await runBurrow(['connect', '--config', config, '127.0.0.1', String(target.port)], { env, input: 'direct' });
    expect(direct.stdout.toString()).toBe('direct');

    const fallback = await runBurrow(['connect', '--config', config, 'other.burrow.test', String(target.port)], { env, input: 'default' });
    expect(fallback.stdout.toString()).toBe('default');
    expect(other.requests).toHaveLength(1);
    expect(http.requests).toHaveLength(1);
  });

  it('an alternative list fails over, and credentials come from the environment by reference', async () => {
    const refused = await closedPort();
    const authed = await track(startConnectProxy({ hosts: HOSTS, auth: { user: 'alice', password: 'Sw0rdf1sh!' } }));
    const target = await track(startEchoServer());
    const config = write(
      'config.yaml',
      [
        'rules:',
        `  - hosts: "*.burrow.test"`,
        `    via: ["http://127.0.0.1:${refused}", "${authed.url}"]`,
        'credentials:',
        '  - proxy: 127.0.0.1',
        '    from: env',
        '    user_env: CORP_USER',
        '    password_env: CORP_PASSWORD',
        'timeouts:',
        '  alternative: 2',
        '',
      ].join('\n'),
    );
    const env = cleanEnv({ CORP_USER: 'alice', CORP_PASSWORD: 'Sw0rdf1sh!' });
    const result = await runBurrow(['connect', '-vv', '--config', config, NAME, String(target.port)], { env, input: 'authenticated' });
    expect(result.stdout.toString()).toBe('authenticated');
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('Sw0rdf1sh');
  });
});

describe('--proxychains-conf', () => {
  it('dynamic_chain skips a dead hop; strict_chain fails on it (the proxy answers 502: exit 3)', async () => {
    const refused = await closedPort();
    const http = await track(startConnectProxy());
    const socks = await track(startSocks5Server(undefined, HOSTS));
    const target = await track(startEchoServer());
    const list = ['[ProxyList]', `http 127.0.0.1 ${http.port}`, `socks5 127.0.0.1 ${refused}`, `socks5 127.0.0.1 ${socks.port}`, ''].join('\n');
    const dynamic = write('proxychains.conf', `dynamic_chain\nproxy_dns\n${list}`);
    const ok = await runBurrow(['connect', '-v', '--proxychains-conf', dynamic, NAME, String(target.port)], { input: 'dynamic' });
    expect(ok.stdout.toString()).toBe('dynamic');
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/skipping a dead hop/);
    expect(socks.requests).toEqual([`domain ${NAME}`]);

    const strict = write('proxychains.conf', `strict_chain\nproxy_dns\n${list}`);
    const failed = await runBurrow(['connect', '--proxychains-conf', strict, NAME, String(target.port)], { input: '' });
    expect(failed.code).toBe(3);
    const json = await routeJson(['--proxychains-conf', strict, NAME, '22']);
    expect(json.plan).toHaveLength(1);
    expect(json.plan[0]!.hops).toEqual([http.url, `socks5h://127.0.0.1:${refused}`, `socks5h://127.0.0.1:${socks.port}`]);
    expect(json.plan[0]!.reason).toContain(`strict_chain in ${strict}:1`);
  });

  it('--proxy and --proxychains-conf together are a usage error', async () => {
    const conf = write('proxychains.conf', 'strict_chain\n[ProxyList]\nhttp 127.0.0.1 1\n');
    const result = await runBurrow(['route', '-x', 'http://127.0.0.1:2', '--proxychains-conf', conf, NAME, '22'], { input: '' });
    expect(result.code).toBe(2);
  });
});

describe.skipIf(!HAVE_SSH)('OpenSSH through a PAC failover', () => {
  it('ssh runs a command when the PAC lists a dead proxy first', async () => {
    const dead = await track(startBlackHole());
    const good = await track(startConnectProxy({ hosts: HOSTS }));
    const sshd = await track(startSshServer());
    const pac = pacReturning(`PROXY 127.0.0.1:${dead.port}; PROXY 127.0.0.1:${good.port}`);
    const result = await runSsh({ host: NAME, port: sshd.port, proxyCommand: `${BURROW} connect --pac ${pac} --alternative-timeout 1 %h %p`, command: 'hostname', env: cleanEnv() });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('ran: hostname\n');
    expect(result.stderr).toBe('');
  });
});
