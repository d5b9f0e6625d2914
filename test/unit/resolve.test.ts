import { describe, expect, it } from 'vitest';
import { BurrowError } from '../../src/errors.ts';
import type { Environment } from '../../src/route/environment.ts';
import { sourceText, type RoutePlan } from '../../src/route/plan.ts';
import { displayProxy } from '../../src/route/proxy-url.ts';
import { resolveRoute, type RouteOptions } from '../../src/route/policy.ts';
import { makeTarget } from '../../src/route/target.ts';

const HOST = 'git.corp.example';

function route(host: string, port: number, options: Partial<RouteOptions> & { env?: Environment } = {}): Promise<RoutePlan> {
  return resolveRoute(makeTarget(host, port), { env: {}, ...options });
}

/** The one alternative, with hops as display strings. */
function summary(plan: RoutePlan): { hops: string[]; source: string } {
  expect(plan.alternatives).toHaveLength(1);
  const [alternative] = plan.alternatives;
  return { hops: alternative!.hops.map(displayProxy), source: sourceText(alternative!.source) };
}

async function thrown(fn: () => Promise<unknown>): Promise<BurrowError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BurrowError);
    return error as BurrowError;
  }
  throw new Error('expected a BurrowError, nothing was thrown');
}

// Which variable wins (DESIGN.md): BURROW_PROXY > HTTPS_PROXY > ALL_PROXY > HTTP_PROXY; for each name the upper
// case beats the lower case (Go's getEnvAny, so tsh), and an empty value counts as unset.
type EnvRow = [why: string, env: Environment, hops: string[], source: string];

const B = 'http://burrow.proxy:1001';
const S = 'http://https.proxy:1002';
const A = 'socks5://all.proxy:1003';
const H = 'http://http.proxy:1004';

const envRows: EnvRow[] = [
  ['nothing set', {}, [], 'default'],
  ['only unrelated variables', { PATH: '/usr/bin', FTP_PROXY: 'http://ftp.proxy:21' }, [], 'default'],
  ['BURROW_PROXY alone', { BURROW_PROXY: B }, [B], 'BURROW_PROXY'],
  ['HTTPS_PROXY alone', { HTTPS_PROXY: S }, [S], 'HTTPS_PROXY'],
  ['ALL_PROXY alone', { ALL_PROXY: A }, [A], 'ALL_PROXY'],
  ['HTTP_PROXY alone', { HTTP_PROXY: H }, [H], 'HTTP_PROXY'],
  ['BURROW_PROXY beats all others', { BURROW_PROXY: B, HTTPS_PROXY: S, ALL_PROXY: A, HTTP_PROXY: H }, [B], 'BURROW_PROXY'],
  ['HTTPS_PROXY beats ALL_PROXY and HTTP_PROXY', { HTTPS_PROXY: S, ALL_PROXY: A, HTTP_PROXY: H }, [S], 'HTTPS_PROXY'],
  ['ALL_PROXY beats HTTP_PROXY', { ALL_PROXY: A, HTTP_PROXY: H }, [A], 'ALL_PROXY'],
  ['lower case alone', { https_proxy: S }, [S], 'https_proxy'],
  ['lower-case all_proxy alone', { all_proxy: A }, [A], 'all_proxy'],
  ['lower-case burrow_proxy alone', { burrow_proxy: B }, [B], 'burrow_proxy'],
  ['upper case beats lower case', { HTTPS_PROXY: S, https_proxy: H }, [S], 'HTTPS_PROXY'],
  ['upper case beats lower case (ALL)', { ALL_PROXY: A, all_proxy: H }, [A], 'ALL_PROXY'],
  ['name before case: https_proxy beats ALL_PROXY', { https_proxy: S, ALL_PROXY: A }, [S], 'https_proxy'],
  ['name before case: all_proxy beats HTTP_PROXY', { all_proxy: A, HTTP_PROXY: H }, [A], 'all_proxy'],
  ['empty upper case counts as unset', { HTTPS_PROXY: '', https_proxy: S }, [S], 'https_proxy'],
  ['empty BURROW_PROXY counts as unset', { BURROW_PROXY: '', HTTPS_PROXY: S }, [S], 'HTTPS_PROXY'],
  ['empty both cases fall through', { HTTPS_PROXY: '', https_proxy: '', ALL_PROXY: A }, [A], 'ALL_PROXY'],
  ['undefined counts as unset', { HTTPS_PROXY: undefined, HTTP_PROXY: H }, [H], 'HTTP_PROXY'],
  ['schemeless value is http', { HTTPS_PROXY: 'proxy.corp:3128' }, ['http://proxy.corp:3128'], 'HTTPS_PROXY'],
  // BURROW_PROXY may be a chain, first hop first; the standard variables never are.
  ['BURROW_PROXY chain', { BURROW_PROXY: `${B},${A}` }, [B, A], 'BURROW_PROXY'],
  ['BURROW_PROXY chain with spaces', { BURROW_PROXY: ` ${B} , ${A} , ${H} ` }, [B, A, H], 'BURROW_PROXY'],
  ['BURROW_PROXY trailing comma', { BURROW_PROXY: `${B},` }, [B], 'BURROW_PROXY'],
  ['burrow_proxy chain', { burrow_proxy: `${S},${A}` }, [S, A], 'burrow_proxy'],
  // NO_PROXY, and the port-specific entry that lets ssh go direct while 443 stays on the proxy.
  ['NO_PROXY matches', { HTTPS_PROXY: S, NO_PROXY: 'corp.example' }, [], 'NO_PROXY'],
  ['no_proxy matches', { HTTPS_PROXY: S, no_proxy: '.corp.example' }, [], 'no_proxy'],
  ['NO_PROXY beats no_proxy', { HTTPS_PROXY: S, NO_PROXY: 'other.example', no_proxy: 'corp.example' }, [S], 'HTTPS_PROXY'],
  ['empty NO_PROXY, no_proxy used', { HTTPS_PROXY: S, NO_PROXY: '', no_proxy: 'corp.example' }, [], 'no_proxy'],
  ['NO_PROXY=*', { HTTPS_PROXY: S, NO_PROXY: '*' }, [], 'NO_PROXY'],
  ['NO_PROXY does not match', { HTTPS_PROXY: S, NO_PROXY: 'other.example,10.0.0.0/8' }, [S], 'HTTPS_PROXY'],
  ['NO_PROXY host:22, port 22', { HTTPS_PROXY: S, NO_PROXY: `${HOST}:22` }, [], 'NO_PROXY'],
  ['NO_PROXY applies to BURROW_PROXY too', { BURROW_PROXY: B, NO_PROXY: HOST }, [], 'NO_PROXY'],
  ['NO_PROXY without any proxy', { NO_PROXY: HOST }, [], 'default'],
];

describe('resolveRoute: environment precedence and NO_PROXY', () => {
  it.each(envRows)('%s', async (_why, env, hops, source) => {
    expect(summary(await route(HOST, 22, { env }))).toEqual({ hops, source });
  });

  it('NO_PROXY=host:22 sends port 22 direct and keeps 443 on the proxy', async () => {
    const env = { HTTPS_PROXY: S, NO_PROXY: `${HOST}:22` };
    expect(summary(await route(HOST, 22, { env }))).toEqual({ hops: [], source: 'NO_PROXY' });
    expect(summary(await route(HOST, 443, { env }))).toEqual({ hops: [S], source: 'HTTPS_PROXY' });
  });

  it('keeps the parsed endpoint, credentials included, for the dialer', async () => {
    const plan = await route(HOST, 22, { env: { HTTPS_PROXY: 'http://u:pw@proxy.corp:3128' } });
    expect(plan.alternatives[0]!.hops).toEqual([
      { scheme: 'http', host: 'proxy.corp', port: 3128, username: 'u', password: 'pw', schemeless: false },
    ]);
    expect(plan.target).toEqual({ host: HOST, port: 22 });
  });
});

// Loopback targets never take a proxy from the environment (Go's rule, which tsh follows), even with NO_PROXY
// unset; an explicit --proxy still applies to them.
const loopbackRows: [host: string, loopback: boolean][] = [
  ['localhost', true],
  ['127.0.0.1', true],
  ['127.1.2.3', true],
  ['::1', true],
  ['[::1]', true],
  ['::ffff:127.0.0.1', true],
  ['localhost.corp.example', false],
  ['128.0.0.1', false],
  ['::2', false],
];

describe('resolveRoute: loopback targets', () => {
  it.each(loopbackRows)('%s (loopback: %s)', async (host, loopback) => {
    for (const env of [{ HTTPS_PROXY: S }, { BURROW_PROXY: B }, { ALL_PROXY: A }, { http_proxy: H }]) {
      const got = summary(await route(host, 22, { env }));
      if (loopback) expect(got).toEqual({ hops: [], source: 'loopback' });
      else expect(got.hops).toHaveLength(1);
    }
    expect(summary(await route(host, 22, { env: { HTTPS_PROXY: S }, proxies: [A] }))).toEqual({ hops: [A], source: '--proxy' });
  });
});

// Options: --direct > --proxy > environment; --proxy ignores NO_PROXY from the environment, --no-proxy applies to
// both and replaces the environment's NO_PROXY.
type OptionRow = [why: string, options: Partial<RouteOptions>, env: Environment, hops: string[], source: string];

const optionRows: OptionRow[] = [
  ['--proxy overrides every variable', { proxies: [A] }, { BURROW_PROXY: B, HTTPS_PROXY: S }, [A], '--proxy'],
  ['--proxy chain keeps its order', { proxies: [S, A, H] }, {}, [S, A, H], '--proxy'],
  ['--proxy ignores NO_PROXY from the environment', { proxies: [A] }, { NO_PROXY: HOST }, [A], '--proxy'],
  ['--proxy ignores NO_PROXY=*', { proxies: [A] }, { NO_PROXY: '*', no_proxy: '*' }, [A], '--proxy'],
  ['--proxy honours --no-proxy', { proxies: [A], noProxy: 'corp.example' }, {}, [], '--no-proxy'],
  ['--proxy with a --no-proxy that does not match', { proxies: [A], noProxy: 'other.example' }, { NO_PROXY: HOST }, [A], '--proxy'],
  ['--proxy with a port-specific --no-proxy', { proxies: [A], noProxy: `${HOST}:443` }, {}, [A], '--proxy'],
  ['an empty --proxy list falls back to the environment', { proxies: [] }, { HTTPS_PROXY: S }, [S], 'HTTPS_PROXY'],
  ['--direct beats --proxy and the environment', { direct: true, proxies: [A] }, { BURROW_PROXY: B }, [], '--direct'],
  ['--direct beats the environment', { direct: true }, { HTTPS_PROXY: S }, [], '--direct'],
  ['direct: false changes nothing', { direct: false }, { HTTPS_PROXY: S }, [S], 'HTTPS_PROXY'],
  ['--no-proxy replaces NO_PROXY (no match)', { noProxy: 'other.example' }, { HTTPS_PROXY: S, NO_PROXY: HOST }, [S], 'HTTPS_PROXY'],
  ['--no-proxy replaces NO_PROXY (match)', { noProxy: HOST }, { HTTPS_PROXY: S, NO_PROXY: 'other.example' }, [], '--no-proxy'],
  ['an empty --no-proxy clears NO_PROXY', { noProxy: '' }, { HTTPS_PROXY: S, NO_PROXY: HOST }, [S], 'HTTPS_PROXY'],
];

describe('resolveRoute: options', () => {
  it.each(optionRows)('%s', async (_why, options, env, hops, source) => {
    expect(summary(await route(HOST, 22, { ...options, env }))).toEqual({ hops, source });
  });
});

// Reasons say what decided, naming the flag or the variable (as spelled in the environment) and the entry.
type ReasonRow = [why: string, options: Partial<RouteOptions>, env: Environment, mentions: string[]];

const reasonRows: ReasonRow[] = [
  ['default', {}, {}, ['BURROW_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'HTTP_PROXY']],
  ['HTTPS_PROXY', {}, { HTTPS_PROXY: S }, ['HTTPS_PROXY', S]],
  ['lower-case variable', {}, { https_proxy: S }, ['https_proxy', S]],
  ['HTTPS_PROXY with NO_PROXY not matching', {}, { HTTPS_PROXY: S, NO_PROXY: 'other.example' }, ['HTTPS_PROXY', 'NO_PROXY']],
  ['BURROW_PROXY chain', {}, { BURROW_PROXY: `${B},${A}` }, ['BURROW_PROXY', B, A]],
  ['NO_PROXY entry', {}, { HTTPS_PROXY: S, NO_PROXY: ` other.example, ${HOST}:22 ` }, ['NO_PROXY', `"${HOST}:22"`, `${HOST}:22`]],
  ['no_proxy entry', {}, { HTTPS_PROXY: S, no_proxy: '.corp.example' }, ['no_proxy', '".corp.example"']],
  ['--no-proxy entry', { noProxy: 'corp.example' }, { HTTPS_PROXY: S }, ['--no-proxy', '"corp.example"']],
  ['--proxy', { proxies: [A] }, {}, ['--proxy']],
  ['--proxy chain', { proxies: [A, S] }, {}, ['--proxy', '2']],
  ['--direct', { direct: true }, {}, ['--direct']],
  ['loopback', {}, { HTTPS_PROXY: S }, ['loopback']],
];

describe('resolveRoute: reasons', () => {
  it.each(reasonRows)('%s', async (why, options, env, mentions) => {
    const host = why === 'loopback' ? '127.0.0.1' : HOST;
    const { reason } = (await route(host, 22, { ...options, env })).alternatives[0]!;
    for (const text of mentions) expect(reason).toContain(text);
  });
});

// Warnings: both cases set and different, no scheme, a password in a variable, unusable NO_PROXY entries. Each row
// lists patterns that must each match one warning, in order; no other warning may appear.
type WarningRow = [why: string, options: Partial<RouteOptions>, env: Environment, warnings: RegExp[]];

const warningRows: WarningRow[] = [
  ['nothing set', {}, {}, []],
  ['a clean setup', {}, { HTTPS_PROXY: S, NO_PROXY: 'corp.example' }, []],
  ['both cases, same value', {}, { HTTPS_PROXY: S, https_proxy: S }, []],
  ['both cases, same value but for whitespace', {}, { HTTPS_PROXY: S, https_proxy: ` ${S} ` }, []],
  ['both cases, one empty', {}, { HTTPS_PROXY: S, https_proxy: '' }, []],
  ['both cases differ', {}, { HTTPS_PROXY: S, https_proxy: H }, [/HTTPS_PROXY.*https_proxy/]],
  ['both cases differ on a lower-precedence name', {}, { HTTPS_PROXY: S, HTTP_PROXY: H, http_proxy: A }, [/HTTP_PROXY.*http_proxy/]],
  ['NO_PROXY and no_proxy differ', {}, { HTTPS_PROXY: S, NO_PROXY: 'a.example', no_proxy: 'b.example' }, [/NO_PROXY.*no_proxy/]],
  ['schemeless HTTPS_PROXY', {}, { HTTPS_PROXY: 'proxy.corp:3128' }, [/HTTPS_PROXY.*no scheme.*http:\/\/proxy\.corp:3128/]],
  ['schemeless --proxy', { proxies: ['proxy.corp:3128'] }, {}, [/--proxy.*no scheme.*http:\/\/proxy\.corp:3128/]],
  ['schemeless hop in a BURROW_PROXY chain', {}, { BURROW_PROXY: `${B},proxy.corp:3128` }, [/BURROW_PROXY.*no scheme/]],
  ['password in HTTPS_PROXY', {}, { HTTPS_PROXY: 'http://u:pw123456@proxy.corp:3128' }, [/HTTPS_PROXY.*password/]],
  ['password in https_proxy', {}, { https_proxy: 'http://u:pw123456@proxy.corp:3128' }, [/https_proxy.*password/]],
  ['password in BURROW_PROXY', {}, { BURROW_PROXY: 'socks5://u:pw123456@proxy.corp' }, [/BURROW_PROXY.*password/]],
  ['a user without a password in a variable', {}, { HTTPS_PROXY: 'http://u@proxy.corp:3128' }, []],
  ['password in --proxy: no warning', { proxies: ['http://u:pw123456@proxy.corp:3128'] }, {}, []],
  ['unusable NO_PROXY entry', {}, { HTTPS_PROXY: S, NO_PROXY: ':22, corp.example' }, [/NO_PROXY.*":22"/]],
  ['password and no scheme', {}, { HTTPS_PROXY: 'u:pw123456@proxy.corp:3128' }, [/no scheme/, /password/]],
];

describe('resolveRoute: warnings', () => {
  it.each(warningRows)('%s', async (_why, options, env, patterns) => {
    const { warnings } = await route(HOST, 22, { ...options, env });
    expect(warnings).toHaveLength(patterns.length);
    patterns.forEach((pattern, i) => expect(warnings[i]).toMatch(pattern));
  });
});

// No password in any reason, source or warning, however the route was decided. Each row carries the password
// "Sw0rdf1sh!" somewhere (percent-encoded as Sw0rdf1sh%21 where a URL needs it).
const PASSWORD = 'Sw0rdf1sh!';
type SecretRow = [why: string, options: Partial<RouteOptions>, env: Environment, host: string, port: number];

const secretRows: SecretRow[] = [
  ['HTTPS_PROXY', {}, { HTTPS_PROXY: 'http://alice:Sw0rdf1sh%21@proxy.corp:3128' }, HOST, 22],
  ['https_proxy differing from HTTPS_PROXY', {}, { HTTPS_PROXY: S, https_proxy: 'http://alice:Sw0rdf1sh!@proxy.corp:3128' }, HOST, 22],
  ['HTTPS_PROXY differing from https_proxy', {}, { HTTPS_PROXY: 'http://alice:Sw0rdf1sh!@proxy.corp:3128', https_proxy: S }, HOST, 22],
  ['schemeless with a password', {}, { ALL_PROXY: 'alice:Sw0rdf1sh%21@proxy.corp:3128' }, HOST, 22],
  ['BURROW_PROXY chain', {}, { BURROW_PROXY: `${S},socks5://alice:Sw0rdf1sh%21@proxy.corp` }, HOST, 22],
  ['NO_PROXY match', {}, { HTTPS_PROXY: 'http://alice:Sw0rdf1sh%21@proxy.corp:3128', NO_PROXY: HOST }, HOST, 22],
  ['loopback', {}, { HTTPS_PROXY: 'http://alice:Sw0rdf1sh%21@proxy.corp:3128' }, 'localhost', 22],
  ['--proxy', { proxies: ['http://alice:Sw0rdf1sh%21@proxy.corp:3128'] }, {}, HOST, 22],
  ['--proxy chain, schemeless', { proxies: [S, 'alice:Sw0rdf1sh%21@proxy.corp:3128'] }, {}, HOST, 22],
  ['--proxy and --no-proxy', { proxies: ['http://alice:Sw0rdf1sh%21@proxy.corp:3128'], noProxy: HOST }, {}, HOST, 22],
];

describe('resolveRoute: no password in reasons, sources or warnings', () => {
  it.each(secretRows)('%s', async (_why, options, env, host, port) => {
    const plan = await route(host, port, { ...options, env });
    const shown = JSON.stringify([plan.warnings, plan.alternatives.map((a) => [sourceText(a.source), a.reason])]);
    expect(shown).not.toContain('Sw0rdf1sh');
    expect(shown).not.toContain('alice:');
    expect(plan.warnings.join('\n') + plan.alternatives.map((a) => a.reason).join('\n')).not.toContain(PASSWORD);
  });
});

// A bad proxy value is a usage error that names where it came from and never shows its password.
type ErrorRow = [why: string, options: Partial<RouteOptions>, env: Environment, mentions: string];

const errorRows: ErrorRow[] = [
  ['unknown scheme in HTTPS_PROXY', {}, { HTTPS_PROXY: 'ftp://alice:Sw0rdf1sh%21@proxy.corp' }, 'HTTPS_PROXY'],
  ['bad port in https_proxy', {}, { https_proxy: 'http://alice:Sw0rdf1sh%21@proxy.corp:99999' }, 'https_proxy'],
  ['whitespace-only HTTPS_PROXY', {}, { HTTPS_PROXY: '   ' }, 'HTTPS_PROXY'],
  ['a comma list in HTTPS_PROXY is no chain', {}, { HTTPS_PROXY: `${S},${A}` }, 'HTTPS_PROXY'],
  ['bad hop in a BURROW_PROXY chain', {}, { BURROW_PROXY: `${B},socks://alice:Sw0rdf1sh%21@proxy.corp` }, 'BURROW_PROXY'],
  ['a BURROW_PROXY of commas and spaces only', {}, { BURROW_PROXY: ' , ', HTTPS_PROXY: S }, 'BURROW_PROXY'],
  ['bad --proxy', { proxies: ['socks://alice:Sw0rdf1sh%21@proxy.corp'] }, {}, '--proxy'],
  ['second --proxy of a chain', { proxies: [S, 'http://alice:Sw0rdf1sh%21@proxy.corp:0'] }, {}, '--proxy #2'],
  ['empty --proxy', { proxies: [''] }, { HTTPS_PROXY: S }, '--proxy'],
];

describe('resolveRoute: bad proxy values', () => {
  it.each(errorRows)('%s', async (_why, options, env, mentions) => {
    const error = await thrown(() => route(HOST, 22, { ...options, env }));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(mentions);
    expect(`${error.message}\n${error.hint ?? ''}`).not.toContain('Sw0rdf1sh');
  });
});
