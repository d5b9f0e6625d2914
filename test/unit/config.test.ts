import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BurrowError } from '../../src/errors.ts';
import { parseConfig } from '../../src/route/config.ts';
import { displayProxy } from '../../src/route/proxy-url.ts';
import { withPlanCredentials } from '../../src/credentials/config.ts';
import { defaultConfigPath } from '../../src/route/config-file.ts';
import { sourceText } from '../../src/route/plan.ts';
import { loadRoutePolicy, resolveRoute, type RouteOptions } from '../../src/route/policy.ts';
import { matchHost, matchRules, parseHostPattern, parsePortList, type HostPattern } from '../../src/route/rules.ts';
import { makeTarget } from '../../src/route/target.ts';

const FILE = '/home/u/.config/burrow/config.yaml';

function configError(text: string): BurrowError {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(BurrowError);
    return error as BurrowError;
  }
  throw new Error('expected the config to be rejected');
}

// Every error names FILE:LINE and what is wrong; the exit status is 2.
type ErrorRow = [why: string, text: string, line: number, message: RegExp];

const errorRows: ErrorRow[] = [
  ['YAML syntax', 'rules: [\n  - a\n', 2, /./],
  ['not a mapping', '- a\n- b\n', 1, /must be a mapping/],
  ['unknown top-level key, with a suggestion', 'proxies: {}\ntimeout:\n  connect: 3\n', 2, /unknown top-level key "timeout" \(did you mean timeouts\?\)/],
  ['duplicate key', 'pac: a.pac\npac: b.pac\n', 2, /unique/i],
  ['bad proxy URL', 'proxies:\n  corp: ftp://p:21\n', 2, /scheme "ftp"/],
  ['proxy name "direct"', 'proxies:\n  direct: http://p:1\n', 2, /not "direct"/],
  ['proxies not a mapping', 'proxies: [a]\n', 1, /map names to proxy URLs/],
  ['rules not a list', 'rules: {hosts: a}\n', 1, /rules must be a list/],
  ['rule without hosts', 'rules:\n  - direct: true\n', 2, /rule 1 has no hosts/],
  ['rule without action', 'rules:\n  - hosts: a\n', 2, /rule 1 needs exactly one of direct, proxy, chain, via/],
  ['rule with two actions', 'rules:\n  - hosts: a\n    direct: true\n    proxy: http://p:1\n', 2, /it has direct and proxy/],
  ['unknown rule key', 'rules:\n  - hosts: a\n    direct: true\n    port: 22\n', 4, /unknown key in rule 1 "port" \(did you mean ports\?\)/],
  ['bad host pattern', 'rules:\n  - hosts: [ok.example, "a b"]\n    direct: true\n', 2, /rule 1 hosts: "a b" is not/],
  ['port out of range', 'rules:\n  - hosts: a\n    ports: [22, 70000]\n    direct: true\n', 3, /"70000" is outside/],
  ['backwards range', 'rules:\n  - hosts: a\n    ports: 9000-8000\n    direct: true\n', 3, /backwards/],
  ['direct not true', 'rules:\n  - hosts: a\n    direct: yes please\n', 3, /direct must be true/],
  ['unknown proxy name', 'proxies:\n  corp: http://p:1\nrules:\n  - hosts: a\n    chain: [corp, nosuch]\n', 5, /"nosuch" is not a name under proxies: \(corp\)/],
  ['direct inside a chain', 'rules:\n  - hosts: a\n    via: [[http://p:1, direct]]\n', 3, /"direct" cannot be a hop inside a chain/],
  ['chain not a list', 'rules:\n  - hosts: a\n    chain: http://p:1\n', 3, /chain must be a list/],
  ['proxy with a list', 'rules:\n  - hosts: a\n    proxy: [http://p:1]\n', 3, /takes one proxy/],
  ['empty via', 'rules:\n  - hosts: a\n    via: []\n', 3, /empty list/],
  ['bad timeout', 'timeouts:\n  connect: -1\n', 2, /timeouts.connect must be a number/],
  ['unknown timeout', 'timeouts:\n  read: 3\n', 2, /unknown key in timeouts "read"/],
  ['credentials without proxy', 'credentials:\n  - user: alice\n', 2, /needs proxy: HOST/],
  ['credentials from unknown', 'credentials:\n  - proxy: p.corp\n    from: keychain\n', 3, /from must be netrc, env or prompt/],
  ['credentials with password and from', 'credentials:\n  - proxy: p.corp\n    from: env\n    password: x\n', 4, /both password: and from: env/],
  ['user_env without from: env', 'credentials:\n  - proxy: p.corp\n    user_env: U\n', 2, /go with from: env/],
  ['empty pac', 'pac: ""\n', 1, /pac must be a file name or an http/],
];

describe('parseConfig: errors name the file and the line', () => {
  it.each(errorRows)('%s', (_why, text, line, message) => {
    const error = configError(text);
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    const lines = error.message.split('\n').slice(1).map((l) => l.trim());
    const hit = lines.find((l) => message.test(l));
    expect(hit, error.message).toBeDefined();
    expect(hit!.startsWith(`${FILE}:${line}: `), error.message).toBe(true);
  });

  it('reports every error, sorted by line', () => {
    const error = configError('rules:\n  - hosts: a\n    ports: 0\n    direct: true\nbogus: 1\nproxies:\n  x: ftp://a:1\n');
    const lines = error.message.split('\n').slice(1).map((l) => Number(/:(\d+): /.exec(l.slice(FILE.length))?.[1]));
    expect(lines).toEqual([3, 5, 7]);
  });

  it('never shows an inline password in an error or warning', () => {
    const config = parseConfig('credentials:\n  - proxy: p.corp:3128\n    user: alice\n    password: "Sw0rdf1sh!"\n', FILE);
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toMatch(new RegExp(`^${FILE}:4: a password written in the config file`));
    expect(config.warnings[0]).not.toContain('Sw0rdf1sh');
    const error = configError('proxies:\n  corp: http://alice:Sw0rdf1sh%21@p:99999\n');
    expect(error.message).not.toContain('Sw0rdf1sh');
  });
});

describe('parseConfig: accepted files', () => {
  it('an empty file is an empty config', () => {
    expect(parseConfig('', FILE)).toMatchObject({ rules: [], credentials: [], timeouts: {} });
    expect(parseConfig('# only a comment\n', FILE).rules).toEqual([]);
  });

  it('reads names, rules, default, pac, timeouts and credentials', () => {
    const config = parseConfig(
      [
        'proxies:',
        '  corp: http://proxy.corp:3128',
        '  socks: socks5h://socks.corp:1080',
        'rules:',
        '  - name: jump',
        '    hosts: jump.example.org',
        '    ports: [22, "2200-2299"]',
        '    chain: [corp, socks]',
        '  - hosts: ["*.internal", 10.0.0.0/8]',
        '    direct: true',
        '  - hosts: "*"',
        '    via: [corp, [corp, socks], direct, "http://other:8080"]',
        'default: corp',
        'no_proxy: [localhost, .internal]',
        'pac: proxy.pac',
        'timeouts: {connect: 30, alternative: 2.5, pac: 4}',
        'credentials:',
        '  - proxy: proxy.corp:3128',
        '    from: env',
        '    password_env: CORP_PW',
      ].join('\n'),
      FILE,
    );
    expect(config.rules.map((r) => [r.index, r.line, r.name, r.hosts.map((h) => h.text), r.action.alternatives.map((a) => a.map(displayProxy))])).toEqual([
      [1, 5, 'jump', ['jump.example.org'], [['http://proxy.corp:3128', 'socks5h://socks.corp:1080']]],
      [2, 9, undefined, ['*.internal', '10.0.0.0/8'], [[]]],
      [3, 11, undefined, ['*'], [['http://proxy.corp:3128'], ['http://proxy.corp:3128', 'socks5h://socks.corp:1080'], [], ['http://other:8080']]],
    ]);
    expect(config.rules[0]!.ports).toEqual([{ from: 22, to: 22 }, { from: 2200, to: 2299 }]);
    expect(config.default).toEqual({ alternatives: [[expect.objectContaining({ host: 'proxy.corp', port: 3128 })]], line: 13 });
    expect(config.noProxy).toEqual({ value: 'localhost,.internal', line: 14 });
    expect(config.pac).toEqual({ location: '/home/u/.config/burrow/proxy.pac', line: 15 });
    expect(config.timeouts).toEqual({ connectMs: 30_000, alternativeMs: 2500, pacMs: 4000 });
    expect(config.credentials).toEqual([{ line: 18, host: 'proxy.corp', port: 3128, from: 'env', passwordEnv: 'CORP_PW' }]);
    expect(config.warnings).toEqual([]);
  });

  it('keeps a PAC URL and an absolute PAC path as they are', () => {
    expect(parseConfig('pac: https://wpad.corp/proxy.pac\n', FILE).pac?.location).toBe('https://wpad.corp/proxy.pac');
    expect(parseConfig('pac: /etc/proxy.pac\n', FILE).pac?.location).toBe('/etc/proxy.pac');
  });
});

// Host patterns and ports: one table of pattern, host, answer.
type HostRow = [pattern: string, host: string, matches: boolean];

const hostRows: HostRow[] = [
  ['*', 'anything.example', true],
  ['*', '10.0.0.1', true],
  ['jump.example.org', 'jump.example.org', true],
  ['jump.example.org', 'JUMP.Example.ORG', true],
  ['jump.example.org', 'jump.example.org.', true],
  ['jump.example.org', 'x.jump.example.org', false],
  ['*.example.org', 'a.example.org', true],
  ['*.example.org', 'a.b.example.org', true],
  ['*.example.org', 'example.org', false],
  ['*.example.org', 'example.org.evil', false],
  ['git?.corp', 'git1.corp', true],
  ['git?.corp', 'git12.corp', false],
  ['db-*', 'db-7.internal', true],
  ['10.0.0.0/8', '10.1.2.3', true],
  ['10.0.0.0/8', '11.1.2.3', false],
  ['10.0.0.0/8', 'ten.example', false],
  ['fd00::/8', 'fd12::1', true],
  ['192.0.2.1', '192.0.2.1', true],
  ['192.0.2.1', '192.0.2.10', false],
  ['::1', '::1', true],
  ['[::1]', '0:0:0:0:0:0:0:1', true],
  ['bücher.example', 'xn--bcher-kva.example', true],
];

describe('rules: host patterns', () => {
  it.each(hostRows)('%s vs %s -> %s', (pattern, host, matches) => {
    const parsed = parseHostPattern(pattern);
    expect(typeof parsed).not.toBe('string');
    expect(matchHost(parsed as HostPattern, host)).toBe(matches);
  });

  it.each(['', 'a b', 'http://x', 'user@host', 'host:22'])('rejects %j', (pattern) => {
    expect(typeof parseHostPattern(pattern)).toBe('string');
  });

  it.each([
    [[22], true],
    [['22'], true],
    [['8000-8100', 443], true],
    [[0], false],
    [['x'], false],
    [['22-'], false],
  ] as const)('port list %j valid: %s', (items, valid) => {
    expect(typeof parsePortList([...items]) !== 'string').toBe(valid);
  });
});

describe('rules: first match wins, ports narrow a rule', () => {
  const config = parseConfig(
    [
      'rules:',
      '  - hosts: jump.example.org',
      '    ports: 22',
      '    proxy: socks5h://socks.corp:1080',
      '  - hosts: "*.example.org"',
      '    ports: [443, 8000-8100]',
      '    proxy: http://web.corp:3128',
      '  - hosts: ["*.example.org", 10.0.0.0/8]',
      '    direct: true',
    ].join('\n'),
    FILE,
  );
  it.each([
    ['jump.example.org', 22, 1],
    ['jump.example.org', 443, 2],
    ['jump.example.org', 8050, 2],
    ['jump.example.org', 2222, 3],
    ['www.example.org', 22, 3],
    ['10.9.9.9', 22, 3],
    ['example.com', 22, undefined],
  ] as const)('%s:%d -> rule %s', (host, port, rule) => {
    expect(matchRules(config.rules, makeTarget(host, port))?.rule.index).toBe(rule);
  });
});

// resolveRoute with a config file: its place in the precedence and what `route` shows.
const dir = mkdtempSync(join(tmpdir(), 'burrow-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function configFile(text: string): string {
  const file = join(dir, `config-${++files}.yaml`);
  writeFileSync(file, text);
  return file;
}

const CONFIG = [
  'proxies:',
  '  corp: http://proxy.corp:3128',
  '  backup: http://backup.corp:3128',
  '  socks: socks5h://socks.corp:1080',
  'rules:',
  '  - name: ssh to jump',
  '    hosts: jump.example.org',
  '    ports: 22',
  '    chain: [corp, socks]',
  '  - hosts: "*.internal"',
  '    direct: true',
  '  - hosts: "*.web.example"',
  '    via: [corp, backup, direct]',
  '  - hosts: localhost',
  '    proxy: corp',
  '  - hosts: "127.*"',
  '    proxy: corp',
  'default: [backup]',
  'no_proxy: "*.nearby"',
  'timeouts: {connect: 7, alternative: 2}',
].join('\n');

type PlanRow = [why: string, host: string, port: number, options: Partial<RouteOptions>, plan: string[][], source: string];

const planRows: PlanRow[] = [
  ['a rule picks a chain', 'jump.example.org', 22, {}, [['http://proxy.corp:3128', 'socks5h://socks.corp:1080']], 'config'],
  ['the rule is port-specific: default otherwise', 'jump.example.org', 443, {}, [['http://backup.corp:3128']], 'config'],
  ['a rule says direct', 'db.internal', 5432, {}, [[]], 'config'],
  ['a rule lists alternatives', 'a.web.example', 443, {}, [['http://proxy.corp:3128'], ['http://backup.corp:3128'], []], 'config'],
  ['no_proxy of the config exempts from the default', 'x.nearby', 22, {}, [[]], 'config'],
  ['default for the rest', 'github.com', 22, {}, [['http://backup.corp:3128']], 'config'],
  ['a rule naming localhost exactly applies to it', 'localhost', 22, {}, [['http://proxy.corp:3128']], 'config'],
  ['a glob rule does not catch a loopback target', '127.0.0.1', 22, {}, [[]], 'loopback'],
  ['--proxy beats the config', 'jump.example.org', 22, { proxies: ['http://cli:1'] }, [['http://cli:1']], '--proxy'],
  ['--direct beats the config', 'jump.example.org', 22, { direct: true }, [[]], '--direct'],
  ['--no-proxy exempts from a rule', 'jump.example.org', 22, { noProxy: 'example.org' }, [[]], '--no-proxy'],
  ['BURROW_PROXY beats the config', 'jump.example.org', 22, { env: { BURROW_PROXY: 'http://bp:1' } }, [['http://bp:1']], 'BURROW_PROXY'],
  ['the config beats HTTPS_PROXY', 'github.com', 22, { env: { HTTPS_PROXY: 'http://hp:1' } }, [['http://backup.corp:3128']], 'config'],
];

describe('resolveRoute with a config file', () => {
  const file = configFile(CONFIG);
  it.each(planRows)('%s', async (_why, host, port, options, alternatives, source) => {
    const plan = await resolveRoute(makeTarget(host, port), { env: {}, configFile: file, ...options });
    expect(plan.alternatives.map((a) => a.hops.map(displayProxy))).toEqual(alternatives);
    expect(plan.alternatives.every((a) => sourceText(a.source) === source)).toBe(true);
    // Time limits are the policy's (dial options), not the plan's.
    expect((await loadRoutePolicy({ env: {}, configFile: file, ...options })).timeouts).toEqual({ connectMs: 7000, alternativeMs: 2000 });
  });

  it('says which rule matched, with its file and line', async () => {
    const plan = await resolveRoute(makeTarget('jump.example.org', 22), { env: {}, configFile: file });
    const [alternative] = plan.alternatives;
    expect(alternative!.rule).toEqual({ file, line: 6, rule: 1, hosts: ['jump.example.org'], ports: '22' });
    expect(alternative!.reason).toContain(`rule 1 (ssh to jump) at ${file}:6`);
    expect(alternative!.reason).toContain('"jump.example.org" (ports 22)');
    const fallback = await resolveRoute(makeTarget('github.com', 22), { env: {}, configFile: file });
    expect(fallback.alternatives[0]!.rule).toEqual({ file, line: 18, rule: 'default' });
    expect(fallback.alternatives[0]!.reason).toContain('no rule of');
  });

  it('without default: falls through to the environment', async () => {
    const bare = configFile('rules:\n  - hosts: a.example\n    direct: true\n');
    const plan = await resolveRoute(makeTarget('b.example', 22), { env: { HTTPS_PROXY: 'http://hp:1' }, configFile: bare });
    expect(plan.alternatives.map((a) => [sourceText(a.source), a.hops.map(displayProxy)])).toEqual([['HTTPS_PROXY', ['http://hp:1']]]);
  });

  it('finds the default file under XDG_CONFIG_HOME, else ~/.config, and ignores a missing one', async () => {
    expect(defaultConfigPath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/burrow/config.yaml');
    expect(defaultConfigPath({ HOME: '/h' })).toBe('/h/.config/burrow/config.yaml');
    expect(defaultConfigPath({ XDG_CONFIG_HOME: 'relative', HOME: '/h' })).toBe('/h/.config/burrow/config.yaml');
    const plan = await resolveRoute(makeTarget('b.example', 22), { env: { XDG_CONFIG_HOME: join(dir, 'nowhere') } });
    expect(sourceText(plan.alternatives[0]!.source)).toBe('default');
  });

  it('a missing --config file is a usage error', async () => {
    await expect(resolveRoute(makeTarget('b.example', 22), { env: {}, configFile: join(dir, 'nope.yaml') })).rejects.toMatchObject({ kind: 'usage' });
  });

  it('fills credentials from the environment for a proxy the config names, never showing them', async () => {
    const withCredentials = configFile(
      ['default: http://proxy.corp:3128', 'credentials:', '  - proxy: proxy.corp', '    from: env', '    user_env: CORP_USER', '    password_env: CORP_PW'].join('\n'),
    );
    const env = { CORP_USER: 'alice', CORP_PW: 'Sw0rdf1sh!' };
    const plan = withPlanCredentials(await resolveRoute(makeTarget('github.com', 22), { env, configFile: withCredentials }), env);
    expect(plan.alternatives[0]!.hops[0]).toMatchObject({ username: 'alice', password: 'Sw0rdf1sh!' });
    expect(JSON.stringify([plan.warnings, plan.alternatives.map((a) => a.reason)])).not.toContain('Sw0rdf1sh');
    const unfilled = await resolveRoute(makeTarget('github.com', 22), { env: {}, configFile: withCredentials });
    // The route names the entries; the credentials layer looks them up.
    expect(unfilled.alternatives[0]!.hops[0]!.username).toBeUndefined();
    const missing = withPlanCredentials(unfilled, {});
    expect(missing.alternatives[0]!.hops[0]!.username).toBeUndefined();
    expect(missing.warnings.join('\n')).toMatch(/CORP_USER is not set/);
  });

  it('reads credentials from netrc with the login the config names', async () => {
    const netrc = join(dir, 'netrc');
    writeFileSync(netrc, 'machine proxy.corp login alice password s3cret\n');
    const cfg = configFile(['default: http://proxy.corp:3128', 'credentials:', '  - proxy: proxy.corp:3128', '    user: alice'].join('\n'));
    const plan = withPlanCredentials(await resolveRoute(makeTarget('github.com', 22), { env: { NETRC: netrc }, configFile: cfg }), { NETRC: netrc });
    expect(plan.alternatives[0]!.hops[0]).toMatchObject({ username: 'alice', password: 's3cret' });
    const other = configFile(['default: http://proxy.corp:3128', 'credentials:', '  - proxy: proxy.corp', '    user: bob'].join('\n'));
    const none = withPlanCredentials(await resolveRoute(makeTarget('github.com', 22), { env: { NETRC: netrc }, configFile: other }), { NETRC: netrc });
    expect(none.alternatives[0]!.hops[0]!.username).toBeUndefined();
    expect(none.warnings.join('\n')).toMatch(/no "machine proxy.corp" with login bob/);
  });
});

describe('the shipped examples', () => {
  it('examples/config.yaml is valid and does what its comments say', async () => {
    const file = new URL('../../examples/config.yaml', import.meta.url).pathname;
    const { readFileSync } = await import('node:fs');
    const config = parseConfig(readFileSync(file, 'utf8'), file);
    expect(config.warnings).toEqual([]);
    const plan = async (host: string, port: number) => (await resolveRoute(makeTarget(host, port), { env: {}, configFile: file })).alternatives.map((a) => a.hops.map(displayProxy));
    expect(await plan('jump.ecmwf.int', 22)).toEqual([['http://proxy.corp.example:8080', 'socks5h://socks.corp.example:1080']]);
    expect(await plan('git.corp.example', 22)).toEqual([[]]);
    expect(await plan('github.com', 22)).toEqual([['http://proxy.corp.example:8080'], ['http://proxy2.corp.example:8080'], []]);
    expect(await plan('example.org', 443)).toEqual([['http://proxy.corp.example:8080'], ['http://proxy2.corp.example:8080']]);
  });

  it('examples/proxy.pac answers as its comments say', async () => {
    const pac = new URL('../../examples/proxy.pac', import.meta.url).pathname;
    const plan = async (host: string, port: number) => (await resolveRoute(makeTarget(host, port), { env: {}, pac })).alternatives.map((a) => a.hops.map(displayProxy));
    expect(await plan('jump.ecmwf.int', 22)).toEqual([['socks5h://socks.corp.example:1080'], ['http://proxy.corp.example:8080']]);
    expect(await plan('git.corp.example', 22)).toEqual([[]]);
    expect(await plan('example.org', 443)).toEqual([['http://proxy.corp.example:8080'], ['http://proxy2.corp.example:8080'], []]);
  });
});
