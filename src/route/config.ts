import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { BurrowError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';
import { checkProxyHeader, type ProxyHeader } from './proxy-headers.ts';
import { parseProxyUrl, type ProxyEndpoint } from './proxy-url.ts';
import { parseHostPattern, parsePortList, type Chain, type HostPattern, type PortRange, type RouteRule } from './rules.ts';
import { isPairNode, mapEntries, scalarString, type Fail } from './yaml-nodes.ts';

// The config file ($XDG_CONFIG_HOME/burrow/config.yaml, or --config FILE). Loaded lazily (this module and the `yaml`
// package are imported only when a config file exists), validated strictly: an unknown key is more often a typo
// than a wish, and every error names FILE:LINE. examples/config.yaml shows every key.
//
//   proxies:   {NAME: URL, ...}                      names for proxies used below
//   rules:     [{hosts, ports, name?, direct | proxy | chain | via}, ...]   first match wins
//   pac:       FILE or URL                           consulted when no rule matches (after --pac and BURROW_PAC)
//   default:   ALTERNATIVES                          when no rule matches and there is no PAC
//   no_proxy:  LIST                                  exceptions to `default` (NO_PROXY syntax, Go rules)
//   timeouts:  {connect, alternative, pac}           seconds
//   headers:   {NAME: VALUE, ...}                    extra request headers for every proxy (e.g. User-Agent)
//   credentials: [{proxy, user?, from: netrc|env|prompt, user_env?, password_env?}, ...]
//
// ALTERNATIVES is a proxy (a NAME from `proxies`, or a URL), "direct", or a list of them tried in order, where an
// item that is itself a list is a chain (first hop first).

export interface BurrowConfig {
  file: string;
  rules: RouteRule[];
  default?: { alternatives: Chain[]; line: number };
  noProxy?: { value: string; line: number };
  pac?: { location: string; line: number };
  timeouts: { connectMs?: number; alternativeMs?: number; pacMs?: number };
  /** Sent with every CONNECT and plain-HTTP request to a proxy (--proxy-header replaces one of the same name). */
  headers: ProxyHeader[];
  credentials: CredentialRef[];
  /** Accepted but worth saying: an inline password, a proxy URL without a scheme. */
  warnings: string[];
}

export interface CredentialRef {
  line: number;
  host: string;
  port?: number;
  user?: string;
  from: 'netrc' | 'env' | 'prompt' | 'inline';
  userEnv?: string;
  passwordEnv?: string;
  password?: string;
}

const TOP_KEYS = ['proxies', 'rules', 'pac', 'default', 'no_proxy', 'timeouts', 'headers', 'credentials'];
const RULE_KEYS = ['hosts', 'ports', 'name', 'direct', 'proxy', 'chain', 'via'];
const RULE_ACTIONS = ['direct', 'proxy', 'chain', 'via'];
const TIMEOUT_KEYS = ['connect', 'alternative', 'pac'];
const CREDENTIAL_KEYS = ['proxy', 'user', 'from', 'user_env', 'password_env', 'password'];

type Entry = Pair<unknown, Node | null>;

/** Shared by the section parsers; every error goes through `fail` so that all of them are reported at once. */
interface Context {
  file: string;
  fail: Fail;
  lineOf: (node: Node | Pair | null | undefined) => number;
  warnings: string[];
  /** Filled by the proxies section, which runs first, for the later sections to name. */
  proxies: Map<string, ProxyEndpoint>;
}

export function parseConfig(text: string, file: string): BurrowConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const errors: string[] = [];
  const warnings: string[] = [];
  const lineOf = (node: Node | Pair | null | undefined): number => {
    const offset = node && 'range' in node && node.range ? node.range[0] : isPairNode(node) && node.key && 'range' in (node.key as Node) ? (node.key as Node).range![0] : 0;
    return lines.linePos(offset).line;
  };
  const fail = (line: number, message: string) => errors.push(`${file}:${line}: ${message}`);

  for (const error of doc.errors) {
    fail(lines.linePos(error.pos[0]).line, error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
  }
  const config: BurrowConfig = { file, rules: [], timeouts: {}, headers: [], credentials: [], warnings };
  if (errors.length > 0) throw configError(file, errors);
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return config;
  if (!isMap(root)) {
    fail(lineOf(root), 'the file must be a mapping of keys (proxies, rules, default, pac, timeouts, credentials)');
    throw configError(file, errors);
  }

  const ctx: Context = { file, fail, lineOf, warnings, proxies: new Map() };
  const entries = mapEntries(root, TOP_KEYS, 'top-level key', fail, lineOf);
  const section = (key: string, parse: (entry: Entry) => void) => {
    const entry = entries.get(key);
    if (entry) parse(entry);
  };
  // proxies first: the other sections refer to its names.
  section('proxies', (entry) => parseProxiesSection(ctx, entry));
  section('rules', (entry) => (config.rules = parseRulesSection(ctx, entry)));
  section('default', (entry) => {
    const alternatives = parseAlternatives(ctx, entry.value, 'default');
    if (alternatives) config.default = { alternatives, line: lineOf(entry.value as Node) };
  });
  section('no_proxy', (entry) => {
    const noProxy = parseNoProxySection(ctx, entry);
    if (noProxy) config.noProxy = noProxy;
  });
  section('pac', (entry) => {
    const pac = parsePacSection(ctx, entry);
    if (pac) config.pac = pac;
  });
  section('timeouts', (entry) => (config.timeouts = parseTimeoutsSection(ctx, entry)));
  section('headers', (entry) => (config.headers = parseHeadersSection(ctx, entry)));
  section('credentials', (entry) => (config.credentials = parseCredentialsSection(ctx, entry)));
  if (errors.length > 0) throw configError(file, errors);
  return config;
}

function parseProxiesSection(ctx: Context, entry: Entry): void {
  const { fail, lineOf } = ctx;
  if (!isMap(entry.value)) {
    fail(lineOf(entry.value ?? entry), 'proxies must map names to proxy URLs, e.g. corp: http://proxy.corp:3128');
    return;
  }
  for (const pair of entry.value.items) {
    const name = scalarString(pair.key);
    const line = lineOf(pair.key as Node);
    if (name === undefined || !/^[A-Za-z][\w.-]*$/.test(name) || name.toLowerCase() === 'direct') {
      fail(line, `proxy name ${JSON.stringify(name ?? null)} must be a word (letters, digits, "_", "-", "."), and not "direct"`);
      continue;
    }
    const url = scalarString(pair.value);
    if (url === undefined) {
      fail(line, `proxy ${name} must be a proxy URL`);
      continue;
    }
    const endpoint = proxyAt(ctx, url, lineOf(pair.value as Node));
    if (endpoint) ctx.proxies.set(name, endpoint);
  }
}

/** ALTERNATIVES (see the header): `what` says where they were written, for the errors. */
function parseAlternatives(ctx: Context, node: unknown, what: string): Chain[] | undefined {
  const { fail, lineOf } = ctx;
  const items = isSeq(node) ? node.items : [node];
  if (items.length === 0) {
    fail(lineOf(node as Node), `${what} is an empty list`);
    return undefined;
  }
  const alternatives: Chain[] = [];
  for (const item of items) {
    if (isSeq(item)) {
      const chain: ProxyEndpoint[] = [];
      for (const hopNode of item.items) {
        const hop = parseHop(ctx, hopNode, what);
        if (hop === 'direct') fail(lineOf(hopNode as Node), `${what}: "direct" cannot be a hop inside a chain`);
        else if (hop) chain.push(hop);
      }
      if (item.items.length === 0) fail(lineOf(item), `${what}: an empty chain`);
      alternatives.push(chain);
      continue;
    }
    const hop = parseHop(ctx, item, what);
    if (hop === 'direct') alternatives.push([]);
    else if (hop) alternatives.push([hop]);
  }
  return alternatives;
}

function parseHop(ctx: Context, item: unknown, what: string): ProxyEndpoint | 'direct' | undefined {
  const text = scalarString(item);
  const at = ctx.lineOf(item as Node);
  if (text === undefined) {
    ctx.fail(at, `${what}: expected a proxy name, a proxy URL or "direct"`);
    return undefined;
  }
  if (text.toLowerCase() === 'direct') return 'direct';
  const named = ctx.proxies.get(text);
  if (named) return named;
  // Without a colon it cannot be a URL, so it is far more likely a misspelt name than a host meant as a proxy.
  if (!text.includes(':')) {
    ctx.fail(at, `${what}: "${text}" is not a name under proxies: (${[...ctx.proxies.keys()].join(', ') || 'none defined'}) nor a URL`);
    return undefined;
  }
  return proxyAt(ctx, text, at);
}

function parseRulesSection(ctx: Context, entry: Entry): RouteRule[] {
  const rules: RouteRule[] = [];
  if (!isSeq(entry.value)) {
    ctx.fail(ctx.lineOf(entry.value ?? entry), 'rules must be a list of {hosts, ports, and one of direct, proxy, chain, via}');
    return rules;
  }
  entry.value.items.forEach((item, i) => {
    const rule = parseRule(ctx, item, i + 1);
    if (rule) rules.push(rule);
  });
  return rules;
}

function parseRule(ctx: Context, item: unknown, index: number): RouteRule | undefined {
  const { fail, lineOf } = ctx;
  const line = lineOf(item as Node);
  if (!isMap(item)) {
    fail(line, `rule ${index} must be a mapping with hosts and one of direct, proxy, chain, via`);
    return undefined;
  }
  const rule = mapEntries(item, RULE_KEYS, `key in rule ${index}`, fail, lineOf);
  const hostsNode = rule.get('hosts');
  const hosts: HostPattern[] = [];
  if (!hostsNode) fail(line, `rule ${index} has no hosts (use "*" for every host)`);
  else {
    for (const hostItem of isSeq(hostsNode.value) ? hostsNode.value.items : [hostsNode.value]) {
      const text = scalarString(hostItem);
      const parsed = text === undefined ? 'not a string' : parseHostPattern(text);
      if (typeof parsed === 'string') fail(lineOf(hostItem as Node), `rule ${index} hosts: ${parsed}`);
      else hosts.push(parsed);
    }
  }
  let ports: PortRange[] = [];
  const portsNode = rule.get('ports');
  if (portsNode) {
    const items = isSeq(portsNode.value) ? portsNode.value.items : [portsNode.value];
    const texts = items.map((p) => (isScalar(p) && (typeof p.value === 'number' || typeof p.value === 'string') ? p.value : undefined));
    const parsed = texts.includes(undefined) ? 'ports must be numbers or ranges like 8000-8100' : parsePortList(texts as Array<string | number>);
    if (typeof parsed === 'string') fail(lineOf(portsNode.value as Node), `rule ${index} ports: ${parsed}`);
    else ports = parsed;
  }
  const actions = RULE_ACTIONS.filter((key) => rule.has(key));
  if (actions.length !== 1) {
    fail(line, `rule ${index} needs exactly one of direct, proxy, chain, via${actions.length > 1 ? ` (it has ${actions.join(' and ')})` : ''}`);
    return undefined;
  }
  const action = actions[0]!;
  const alternatives = parseRuleAction(ctx, action, rule.get(action)!.value, `rule ${index} ${action}`);
  const name = rule.get('name') ? scalarString(rule.get('name')!.value) : undefined;
  if (!alternatives || hosts.length === 0) return undefined;
  return { index, line, hosts, ports, action: { alternatives }, ...(name ? { name } : {}) };
}

/** The four actions are four spellings of ALTERNATIVES, each narrower than via:, so each checks its own shape. */
function parseRuleAction(ctx: Context, action: string, valueNode: Node | null, what: string): Chain[] | undefined {
  const { fail, lineOf } = ctx;
  if (action === 'direct') {
    if (!isScalar(valueNode) || valueNode.value !== true) fail(lineOf(valueNode), `${what} must be true (write via: or proxy: for a proxy)`);
    else return [[]];
  } else if (action === 'proxy') {
    if (isSeq(valueNode)) fail(lineOf(valueNode), `${what} takes one proxy; use chain: for hops or via: for alternatives`);
    else return parseAlternatives(ctx, valueNode, what);
  } else if (action === 'chain') {
    if (!isSeq(valueNode)) fail(lineOf(valueNode), `${what} must be a list of hops, first hop first`);
    else {
      const chain = parseAlternatives(ctx, valueNode, what);
      if (chain?.some((c) => c.length !== 1)) fail(lineOf(valueNode), `${what}: every hop must be one proxy ("direct" and nested lists belong in via:)`);
      else if (chain) return [chain.map((c) => c[0]!)];
    }
  } else {
    return parseAlternatives(ctx, valueNode, what);
  }
  return undefined;
}

function parseNoProxySection(ctx: Context, entry: Entry): BurrowConfig['noProxy'] {
  const items = isSeq(entry.value) ? entry.value.items.map(scalarString) : [scalarString(entry.value)];
  if (items.includes(undefined)) {
    ctx.fail(ctx.lineOf(entry.value), 'no_proxy must be a list of hosts or a comma-separated string (NO_PROXY syntax)');
    return undefined;
  }
  return { value: items.join(','), line: ctx.lineOf(entry.value) };
}

function parsePacSection(ctx: Context, entry: Entry): BurrowConfig['pac'] {
  const location = scalarString(entry.value);
  if (location === undefined || location.trim() === '') {
    ctx.fail(ctx.lineOf(entry.value), 'pac must be a file name or an http(s):// URL');
    return undefined;
  }
  const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
  // A relative file is relative to the config file, not to wherever ssh happens to start burrow.
  return { location: remote || isAbsolute(location) ? location : resolvePath(dirname(ctx.file), location), line: ctx.lineOf(entry.value) };
}

function parseTimeoutsSection(ctx: Context, entry: Entry): BurrowConfig['timeouts'] {
  const { fail, lineOf } = ctx;
  const timeouts: BurrowConfig['timeouts'] = {};
  if (!isMap(entry.value)) {
    fail(lineOf(entry.value), 'timeouts must be a mapping: connect, alternative, pac (seconds)');
    return timeouts;
  }
  for (const [key, pair] of mapEntries(entry.value, TIMEOUT_KEYS, 'key in timeouts', fail, lineOf)) {
    const value = isScalar(pair.value) ? Number(pair.value.value) : Number.NaN;
    if (!Number.isFinite(value) || value <= 0 || value > 3600) {
      fail(lineOf(pair.value), `timeouts.${key} must be a number of seconds from 0 to 3600`);
      continue;
    }
    const ms = Math.round(value * 1000);
    if (key === 'connect') timeouts.connectMs = ms;
    else if (key === 'alternative') timeouts.alternativeMs = ms;
    else timeouts.pacMs = ms;
  }
  return timeouts;
}

function parseHeadersSection(ctx: Context, entry: Entry): ProxyHeader[] {
  const { fail, lineOf } = ctx;
  if (!isMap(entry.value)) {
    fail(lineOf(entry.value ?? entry), 'headers must map header names to values, e.g. User-Agent: "Mozilla/5.0"');
    return [];
  }
  const headers: ProxyHeader[] = [];
  for (const pair of entry.value.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = isScalar(pair.value) ? String(pair.value.value ?? '') : undefined;
    if (value === undefined) {
      fail(lineOf(pair as Entry), `headers.${name}: the value must be one line of text`);
      continue;
    }
    try {
      headers.push(checkProxyHeader(name, value.trim(), 'headers:'));
    } catch (error) {
      fail(lineOf(pair as Entry), error instanceof BurrowError ? error.message : String(error));
    }
  }
  return headers;
}

function parseCredentialsSection(ctx: Context, entry: Entry): CredentialRef[] {
  const credentials: CredentialRef[] = [];
  if (!isSeq(entry.value)) {
    ctx.fail(ctx.lineOf(entry.value), 'credentials must be a list of {proxy, user, from: netrc|env|prompt}');
    return credentials;
  }
  for (const item of entry.value.items) {
    const ref = parseCredential(ctx, item);
    if (ref) credentials.push(ref);
  }
  return credentials;
}

function parseCredential(ctx: Context, item: unknown): CredentialRef | undefined {
  const { fail, lineOf } = ctx;
  const line = lineOf(item as Node);
  if (!isMap(item)) {
    fail(line, 'a credentials entry must be a mapping: proxy, user, from');
    return undefined;
  }
  const entry = mapEntries(item, CREDENTIAL_KEYS, 'key in credentials', fail, lineOf);
  const get = (key: string) => (entry.has(key) ? scalarString(entry.get(key)!.value) : undefined);
  const proxyText = get('proxy');
  const where = proxyText === undefined ? undefined : /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(proxyText.replace(/^[a-z0-9]+:\/\//i, ''));
  if (!where) {
    fail(line, 'a credentials entry needs proxy: HOST or HOST:PORT (the proxy they are for)');
    return undefined;
  }
  const password = get('password');
  const fromText = get('from') ?? (password !== undefined ? 'inline' : 'netrc');
  if (!['netrc', 'env', 'prompt', 'inline'].includes(fromText) || (fromText === 'inline' && password === undefined)) {
    fail(lineOf(entry.get('from')?.value), `credentials from must be netrc, env or prompt, not "${fromText}"`);
    return undefined;
  }
  if (password !== undefined && fromText !== 'inline') {
    fail(lineOf(entry.get('password')!.value), `a credentials entry has both password: and from: ${fromText}; keep one`);
    return undefined;
  }
  if (password !== undefined) {
    registerSecret(password);
    ctx.warnings.push(`${ctx.file}:${lineOf(entry.get('password')!.value)}: a password written in the config file; prefer from: netrc, env or prompt (and keep the file private)`);
  }
  const user = get('user');
  const userEnv = get('user_env');
  const passwordEnv = get('password_env');
  if ((userEnv !== undefined || passwordEnv !== undefined) && fromText !== 'env') fail(line, 'user_env and password_env go with from: env');
  return {
    line,
    host: (where[1] ?? where[2]!).toLowerCase(),
    from: fromText as CredentialRef['from'],
    ...(where[3] ? { port: Number(where[3]) } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(userEnv !== undefined ? { userEnv } : {}),
    ...(passwordEnv !== undefined ? { passwordEnv } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

function configError(file: string, errors: string[]): BurrowError {
  const lineOf = (e: string) => Number(/:(\d+): /.exec(e.slice(file.length))?.[1] ?? 0);
  const shown = [...errors].sort((a, b) => lineOf(a) - lineOf(b)).slice(0, 10);
  const more = errors.length > shown.length ? `\n  (and ${errors.length - shown.length} more)` : '';
  return new BurrowError('usage', `the config file ${file} is not valid:\n  ${shown.join('\n  ')}${more}`, {
    hint: 'fix it (examples/config.yaml shows every key), or point --config at another file',
  });
}

function proxyAt(ctx: Context, text: string, line: number): ProxyEndpoint | undefined {
  const { file } = ctx;
  try {
    const endpoint = parseProxyUrl(text, `${file}:${line}: the proxy URL`);
    if (endpoint.schemeless) ctx.warnings.push(`${file}:${line}: "${endpoint.host}:${endpoint.port}" has no scheme and is read as http://; write the scheme to be sure`);
    if (endpoint.password !== undefined) ctx.warnings.push(`${file}:${line}: a proxy URL with a password in the config file; prefer credentials: with from: netrc, env or prompt`);
    return endpoint;
  } catch (error) {
    if (!(error instanceof BurrowError)) throw error;
    ctx.fail(line, error.message.replace(`${file}:${line}: `, ''));
    return undefined;
  }
}
