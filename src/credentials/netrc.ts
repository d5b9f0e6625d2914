import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
// A ~/.netrc reader for proxy credentials (`machine PROXYHOST login USER password PASS`), as curl and ftp read it:
// whitespace-separated tokens, double-quoted tokens with backslash escapes, `default` as the fallback entry,
// `macdef` bodies skipped up to the next blank line. Pure: parse text, then look a host up.

export interface NetrcEntry {
  login?: string;
  password?: string;
}

export interface Netrc {
  machines: Map<string, NetrcEntry>;
  fallback: NetrcEntry | undefined;
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!;
    let i = 0;
    while (i < line.length) {
      const c = line[i]!;
      if (/\s/.test(c)) {
        i++;
        continue;
      }
      if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break; // comment to end of line
      let token = '';
      if (c === '"') {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) i++;
          token += line[i];
          i++;
        }
        i++;
      } else {
        while (i < line.length && !/\s/.test(line[i]!)) token += line[i++];
      }
      tokens.push(token);
      if (token === 'macdef') {
        // The macro's name is the next word on this line; its body runs to the next empty line.
        const name = line.slice(i).trim().split(/\s+/)[0] ?? '';
        tokens.push(name);
        while (l + 1 < lines.length && lines[l + 1]!.trim() !== '') l++;
        l++;
        break;
      }
    }
  }
  return tokens;
}

export function parseNetrc(text: string): Netrc {
  const netrc: Netrc = { machines: new Map(), fallback: undefined };
  const tokens = tokenize(text);
  let current: NetrcEntry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    switch (token) {
      case 'machine': {
        const name = (tokens[++i] ?? '').toLowerCase();
        current = {};
        if (!netrc.machines.has(name)) netrc.machines.set(name, current);
        break;
      }
      case 'default':
        current = {};
        netrc.fallback ??= current;
        break;
      case 'login':
        if (current) current.login = tokens[++i];
        else i++;
        break;
      case 'password':
        if (current) current.password = tokens[++i];
        else i++;
        break;
      case 'account':
      case 'macdef':
        i++;
        break;
      default:
        break;
    }
  }
  return netrc;
}

export function netrcLookup(netrc: Netrc, host: string): NetrcEntry | undefined {
  return netrc.machines.get(host.toLowerCase()) ?? netrc.fallback;
}

/** The netrc file burrow reads: $NETRC, else ~/.netrc (as curl). */
export function netrcPath(env: Readonly<Record<string, string | undefined>>): string {
  return env.NETRC || join(env.HOME || process.getBuiltinModule('node:os').homedir(), '.netrc');
}

let cached: { file: string; mtimeMs: number; size: number; netrc: Netrc } | undefined;

/**
 * The parsed netrc file, or undefined when there is none (or it cannot be read). `burrow forward` asks for every
 * tunnel: a stat (no exception when the file is missing, the common case) decides whether to read it again.
 */
export function readNetrc(env: Readonly<Record<string, string | undefined>>): { netrc: Netrc; file: string } | undefined {
  const file = netrcPath(env);
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (cached && cached.file === file && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return { netrc: cached.netrc, file };
  try {
    const netrc = parseNetrc(readFileSync(file, 'utf8'));
    cached = { file, mtimeMs: stat.mtimeMs, size: stat.size, netrc };
    return { netrc, file };
  } catch {
    return undefined;
  }
}
