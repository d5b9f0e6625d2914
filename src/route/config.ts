import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { BurrowError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';
import { parseProxyUrl, type ProxyEndpoint } from './proxy-url.ts';
import { parseHostPattern, parsePortList, type Chain, type HostPattern, type PortRange, type RouteRule } from './rules.ts';

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

const TOP_KEYS = ['proxies', 'rules', 'pac', 'default', 'no_proxy', 'timeouts', 'credentials'];
const RULE_KEYS = ['hosts', 'ports', 'name', 'direct', 'proxy', 'chain', 'via'];
const RULE_ACTIONS = ['direct', 'proxy', 'chain', 'via'];
const TIMEOUT_KEYS = ['connect', 'alternative', 'pac'];
const CREDENTIAL_KEYS = ['proxy', 'user', 'from', 'user_env', 'password_env', 'password'];

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
  const config: BurrowConfig = { file, rules: [], timeouts: {}, credentials: [], warnings };
  if (errors.length > 0) throw configError(file, errors);
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return config;
  if (!isMap(root)) {
    fail(lineOf(root), 'the file must be a mapping of keys (proxies, rules, default, pac, timeouts, credentials)');
    throw configError(file, errors);
  }

  const entries = mapEntries(root, TOP_KEYS, 'top-level key', fail, lineOf);
  const proxies = new Map<string, ProxyEndpoint>();
  const proxiesNode = entries.get('proxies');
  if (proxiesNode) {
    if (!isMap(proxiesNode.value)) fail(lineOf(proxiesNode.value ?? proxiesNode), 'proxies must map names to proxy URLs, e.g. corp: http://proxy.corp:3128');
    else {
      for (const pair of proxiesNode.value.items) {
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
        const endpoint = proxyAt(url, lineOf(pair.value as Node), fail, warnings, file);
        if (endpoint) proxies.set(name, endpoint);
      }
    }
  }

  const alternativesOf = (node: unknown, what: string): Chain[] | undefined => {
    const line = lineOf(node as Node);
    const hopOf = (item: unknown): ProxyEndpoint | 'direct' | undefined => {
      const text = scalarString(item);
      const at = lineOf(item as Node);
      if (text === undefined) {
        fail(at, `${what}: expected a proxy name, a proxy URL or "direct"`);
        return undefined;
      }
      if (text.toLowerCase() === 'direct') return 'direct';
      const named = proxies.get(text);
      if (named) return named;
      if (!text.includes(':')) {
        fail(at, `${what}: "${text}" is not a name under proxies: (${[...proxies.keys()].join(', ') || 'none defined'}) nor a URL`);
        return undefined;
      }
      return proxyAt(text, at, fail, warnings, file);
    };
    const items = isSeq(node) ? node.items : [node];
    if (items.length === 0) {
      fail(line, `${what} is an empty list`);
      return undefined;
    }
    const alternatives: Chain[] = [];
    for (const item of items) {
      if (isSeq(item)) {
        const chain: ProxyEndpoint[] = [];
        for (const hopNode of item.items) {
          const hop = hopOf(hopNode);
          if (hop === 'direct') fail(lineOf(hopNode as Node), `${what}: "direct" cannot be a hop inside a chain`);
          else if (hop) chain.push(hop);
        }
        if (item.items.length === 0) fail(lineOf(item), `${what}: an empty chain`);
        alternatives.push(chain);
        continue;
      }
      const hop = hopOf(item);
      if (hop === 'direct') alternatives.push([]);
      else if (hop) alternatives.push([hop]);
    }
    return alternatives;
  };

  const rulesNode = entries.get('rules');
  if (rulesNode) {
    if (!isSeq(rulesNode.value)) fail(lineOf(rulesNode.value ?? rulesNode), 'rules must be a list of {hosts, ports, and one of direct, proxy, chain, via}');
    else {
      rulesNode.value.items.forEach((item, i) => {
        const index = i + 1;
        const line = lineOf(item as Node);
        if (!isMap(item)) {
          fail(line, `rule ${index} must be a mapping with hosts and one of direct, proxy, chain, via`);
          return;
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
          return;
        }
        const action = actions[0]!;
        const valueNode = rule.get(action)!.value;
        const what = `rule ${index} ${action}`;
        let alternatives: Chain[] | undefined;
        if (action === 'direct') {
          if (!isScalar(valueNode) || valueNode.value !== true) fail(lineOf(valueNode as Node), `${what} must be true (write via: or proxy: for a proxy)`);
          else alternatives = [[]];
        } else if (action === 'proxy') {
          if (isSeq(valueNode)) fail(lineOf(valueNode), `${what} takes one proxy; use chain: for hops or via: for alternatives`);
          else alternatives = alternativesOf(valueNode, what);
        } else if (action === 'chain') {
          if (!isSeq(valueNode)) fail(lineOf(valueNode as Node), `${what} must be a list of hops, first hop first`);
          else {
            const chain = alternativesOf(valueNode, what);
            if (chain && chain.some((c) => c.length !== 1)) fail(lineOf(valueNode), `${what}: every hop must be one proxy ("direct" and nested lists belong in via:)`);
            else if (chain) alternatives = [chain.map((c) => c[0]!)];
          }
        } else {
          alternatives = alternativesOf(valueNode, what);
        }
        const name = rule.get('name') ? scalarString(rule.get('name')!.value) : undefined;
        if (alternatives && hosts.length > 0) {
          config.rules.push({ index, line, hosts, ports, action: { alternatives }, ...(name ? { name } : {}) });
        }
      });
    }
  }

  const defaultNode = entries.get('default');
  if (defaultNode) {
    const alternatives = alternativesOf(defaultNode.value, 'default');
    if (alternatives) config.default = { alternatives, line: lineOf(defaultNode.value as Node) };
  }
  const noProxyNode = entries.get('no_proxy');
  if (noProxyNode) {
    const items = isSeq(noProxyNode.value) ? noProxyNode.value.items.map(scalarString) : [scalarString(noProxyNode.value)];
    if (items.includes(undefined)) fail(lineOf(noProxyNode.value as Node), 'no_proxy must be a list of hosts or a comma-separated string (NO_PROXY syntax)');
    else config.noProxy = { value: items.join(','), line: lineOf(noProxyNode.value as Node) };
  }
  const pacNode = entries.get('pac');
  if (pacNode) {
    const location = scalarString(pacNode.value);
    if (location === undefined || location.trim() === '') fail(lineOf(pacNode.value as Node), 'pac must be a file name or an http(s):// URL');
    else {
      const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
      // A relative file is relative to the config file, not to wherever ssh happens to start burrow.
      config.pac = { location: remote || isAbsolute(location) ? location : resolvePath(dirname(file), location), line: lineOf(pacNode.value as Node) };
    }
  }
  const timeoutsNode = entries.get('timeouts');
  if (timeoutsNode) {
    if (!isMap(timeoutsNode.value)) fail(lineOf(timeoutsNode.value as Node), 'timeouts must be a mapping: connect, alternative, pac (seconds)');
    else {
      for (const [key, pair] of mapEntries(timeoutsNode.value, TIMEOUT_KEYS, 'key in timeouts', fail, lineOf)) {
        const value = isScalar(pair.value) ? Number(pair.value.value) : Number.NaN;
        if (!Number.isFinite(value) || value <= 0 || value > 3600) {
          fail(lineOf(pair.value as Node), `timeouts.${key} must be a number of seconds from 0 to 3600`);
          continue;
        }
        const ms = Math.round(value * 1000);
        if (key === 'connect') config.timeouts.connectMs = ms;
        else if (key === 'alternative') config.timeouts.alternativeMs = ms;
        else config.timeouts.pacMs = ms;
      }
    }
  }
  const credentialsNode = entries.get('credentials');
  if (credentialsNode) {
    if (!isSeq(credentialsNode.value)) fail(lineOf(credentialsNode.value as Node), 'credentials must be a list of {proxy, user, from: netrc|env|prompt}');
    else {
      for (const item of credentialsNode.value.items) {
        const line = lineOf(item as Node);
        if (!isMap(item)) {
          fail(line, 'a credentials entry must be a mapping: proxy, user, from');
          continue;
        }
        const entry = mapEntries(item, CREDENTIAL_KEYS, 'key in credentials', fail, lineOf);
        const get = (key: string) => (entry.has(key) ? scalarString(entry.get(key)!.value) : undefined);
        const proxyText = get('proxy');
        const where = proxyText === undefined ? undefined : /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(proxyText.replace(/^[a-z0-9]+:\/\//i, ''));
        if (!where) {
          fail(line, 'a credentials entry needs proxy: HOST or HOST:PORT (the proxy they are for)');
          continue;
        }
        const password = get('password');
        const fromText = get('from') ?? (password !== undefined ? 'inline' : 'netrc');
        if (!['netrc', 'env', 'prompt', 'inline'].includes(fromText) || (fromText === 'inline' && password === undefined)) {
          fail(lineOf(entry.get('from')?.value as Node), `credentials from must be netrc, env or prompt, not "${fromText}"`);
          continue;
        }
        if (password !== undefined && fromText !== 'inline') {
          fail(lineOf(entry.get('password')!.value as Node), `a credentials entry has both password: and from: ${fromText}; keep one`);
          continue;
        }
        if (password !== undefined) {
          registerSecret(password);
          warnings.push(`${file}:${lineOf(entry.get('password')!.value as Node)}: a password written in the config file; prefer from: netrc, env or prompt (and keep the file private)`);
        }
        const user = get('user');
        const userEnv = get('user_env');
        const passwordEnv = get('password_env');
        if ((userEnv !== undefined || passwordEnv !== undefined) && fromText !== 'env') fail(line, 'user_env and password_env go with from: env');
        const ref: CredentialRef = {
          line,
          host: (where[1] ?? where[2]!).toLowerCase(),
          from: fromText as CredentialRef['from'],
          ...(where[3] ? { port: Number(where[3]) } : {}),
          ...(user !== undefined ? { user } : {}),
          ...(userEnv !== undefined ? { userEnv } : {}),
          ...(passwordEnv !== undefined ? { passwordEnv } : {}),
          ...(password !== undefined ? { password } : {}),
        };
        config.credentials.push(ref);
      }
    }
  }
  if (errors.length > 0) throw configError(file, errors);
  return config;
}

function configError(file: string, errors: string[]): BurrowError {
  const lineOf = (e: string) => Number(/:(\d+): /.exec(e.slice(file.length))?.[1] ?? 0);
  const shown = [...errors].sort((a, b) => lineOf(a) - lineOf(b)).slice(0, 10);
  const more = errors.length > shown.length ? `\n  (and ${errors.length - shown.length} more)` : '';
  return new BurrowError('usage', `the config file ${file} is not valid:\n  ${shown.join('\n  ')}${more}`, {
    hint: 'fix it (examples/config.yaml shows every key), or point --config at another file',
  });
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

function isPairNode(node: unknown): node is Pair {
  return typeof node === 'object' && node !== null && 'key' in node && 'value' in node;
}

function scalarString(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const value = node.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** The keys of a mapping, each checked against the allowed ones. */
function mapEntries(map: YAMLMap, allowed: string[], what: string, fail: (line: number, message: string) => void, lineOf: (node: Node | Pair) => number): Map<string, Pair<unknown, Node | null>> {
  const entries = new Map<string, Pair<unknown, Node | null>>();
  for (const pair of map.items as Array<Pair<unknown, Node | null>>) {
    const key = scalarString(pair.key);
    const line = lineOf((pair.key as Node | null) ?? pair);
    if (key === undefined || !allowed.includes(key)) {
      const suggestion = key === undefined ? undefined : allowed.find((a) => distance(a, key.toLowerCase().replace(/-/g, '_')) <= 2);
      fail(line, `unknown ${what} ${JSON.stringify(key ?? null)}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; known: ${allowed.join(', ')}`);
      continue;
    }
    entries.set(key, pair);
  }
  return entries;
}

function proxyAt(text: string, line: number, fail: (line: number, message: string) => void, warnings: string[], file: string): ProxyEndpoint | undefined {
  try {
    const endpoint = parseProxyUrl(text, `${file}:${line}: the proxy URL`);
    if (endpoint.schemeless) warnings.push(`${file}:${line}: "${endpoint.host}:${endpoint.port}" has no scheme and is read as http://; write the scheme to be sure`);
    if (endpoint.password !== undefined) warnings.push(`${file}:${line}: a proxy URL with a password in the config file; prefer credentials: with from: netrc, env or prompt`);
    return endpoint;
  } catch (error) {
    if (!(error instanceof BurrowError)) throw error;
    fail(line, error.message.replace(`${file}:${line}: `, ''));
    return undefined;
  }
}
