import { basename, resolve as resolvePath } from 'node:path';
import { isSingleExecutable } from '../runtime/install.ts';

// Pure helpers for `burrow exec` and `burrow ssh-config`: which words start burrow itself, how they are quoted for
// the shell OpenSSH runs a ProxyCommand with, and how each known tool is told to use it. Table-tested
// (test/unit/wrap-inject.test.ts).

/**
 * The words that start this burrow: the single executable itself; else the bin script (absolute), and on Windows
 * node.exe before it.
 */
export function burrowWords(platform: NodeJS.Platform = process.platform, script = process.argv[1] ?? 'burrow', execPath = process.execPath, single = isSingleExecutable()): string[] {
  if (single) return [execPath];
  const absolute = resolvePath(script);
  // Windows has no shebangs: OpenSSH for Windows runs the ProxyCommand with CreateProcess, so name node.exe.
  return platform === 'win32' ? [execPath, absolute] : [absolute];
}

/** POSIX sh quoting: bare when safe, else single quotes. */
export function shQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Windows (and OpenSSH for Windows) quoting: double quotes around words with spaces. */
export function winQuote(word: string): string {
  if (word !== '' && !/[\s"]/.test(word)) return word;
  return `"${word.replace(/"/g, '\\"')}"`;
}

/**
 * The ProxyCommand value for ssh_config or `-o ProxyCommand=`: burrow's words quoted for the shell ssh uses, with
 * `%` doubled (OpenSSH expands %-tokens in the whole command), then `connect %h %p`.
 */
export function proxyCommandValue(words: string[], extra: string[] = [], platform: NodeJS.Platform = process.platform): string {
  const quote = platform === 'win32' ? winQuote : shQuote;
  return `${[...words, 'connect', ...extra].map((w) => quote(w).replace(/%/g, '%%')).join(' ')} %h %p`;
}

export type ToolKind = 'ssh' | 'scp' | 'sftp' | 'git' | 'rsync' | 'other';

export function toolKind(program: string): ToolKind {
  const name = basename(program).toLowerCase().replace(/\.exe$/, '');
  if (name === 'ssh' || name === 'scp' || name === 'sftp' || name === 'git' || name === 'rsync') return name;
  return 'other';
}

// Options that take an argument, per OpenSSH tool (ssh(1), scp(1), sftp(1)).
const ARG_OPTIONS: Record<'ssh' | 'scp' | 'sftp', string> = {
  ssh: 'BbcDEeFIiJLlmOoPpQRSWw',
  scp: 'cDFiJloPSX',
  sftp: 'BbcDFiJloPRSsX',
};

/**
 * Whether the user already chose how ssh reaches the host on the command line: `-o ProxyCommand=…`,
 * `-oProxyJump …`, `-J …`. Only options before the destination are read (after it come remote commands).
 */
export function sshArgsChooseProxy(kind: 'ssh' | 'scp' | 'sftp', args: string[]): string | undefined {
  const withArg = ARG_OPTIONS[kind];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (!arg.startsWith('-') || arg === '-') {
      if (kind === 'ssh') return undefined; // the destination: the rest is the remote command
      continue; // scp/sftp: paths and options may mix
    }
    // A cluster of flags: "-vJ jump", "-oProxyCommand=x", "-p22".
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      if (!withArg.includes(letter)) continue;
      const inline = arg.slice(j + 1);
      const value = inline !== '' ? inline : (args[++i] ?? '');
      if (letter === 'J') return `-J ${value}`;
      if (letter === 'o') {
        const key = /^\s*([A-Za-z]+)/.exec(value)?.[1]?.toLowerCase();
        if (key === 'proxycommand' || key === 'proxyjump') return `-o ${value}`;
      }
      break;
    }
  }
  return undefined;
}

export interface Injection {
  /** The argument list to run (the program's own arguments, without the program). */
  args: string[];
  /** Variables to set for the child. */
  env: Record<string, string>;
  /** What was done, for -v; or why nothing was, for a notice. */
  note: string;
}

/**
 * How `burrow exec` makes tools that ignore the proxy variables use the route: ssh/scp/sftp get
 * `-o ProxyCommand=…` (first obtained value wins in OpenSSH, so it goes first), git gets GIT_SSH_COMMAND, rsync
 * gets `-e`. The user's own choice always wins: an explicit ProxyCommand/ProxyJump, GIT_SSH(_COMMAND), -e/RSYNC_RSH.
 */
export function injectFor(program: string, args: string[], env: Readonly<Record<string, string | undefined>>, proxyCommand: string): Injection {
  const kind = toolKind(program);
  const option = `ProxyCommand=${proxyCommand}`;
  switch (kind) {
    case 'ssh':
    case 'scp':
    case 'sftp': {
      const chosen = sshArgsChooseProxy(kind, args);
      if (chosen) return { args, env: {}, note: `${kind}: kept your ${chosen}` };
      return { args: ['-o', option, ...args], env: {}, note: `${kind}: added -o ${option}` };
    }
    case 'git': {
      const existing = env.GIT_SSH_COMMAND;
      if (existing && /proxy(command|jump)|\s-J\s/i.test(existing)) return { args, env: {}, note: 'git: kept your GIT_SSH_COMMAND (it chooses a proxy already)' };
      if (!existing && env.GIT_SSH) return { args, env: {}, note: 'git: GIT_SSH is set, so GIT_SSH_COMMAND is left alone; git over ssh goes the way GIT_SSH says' };
      const value = `${existing ?? 'ssh'} -o ${shQuote(option)}`;
      return { args, env: { GIT_SSH_COMMAND: value }, note: `git: GIT_SSH_COMMAND=${value}` };
    }
    case 'rsync': {
      const userRsh = args.some((a) => a === '-e' || a.startsWith('--rsh') || /^-[^-]*e/.test(a));
      if (userRsh) return { args, env: {}, note: 'rsync: kept your -e/--rsh' };
      const rsh = env.RSYNC_RSH;
      if (rsh && /proxy(command|jump)/i.test(rsh)) return { args, env: {}, note: 'rsync: kept your RSYNC_RSH' };
      // rsync splits -e on spaces and honours single and double quotes.
      const value = `${rsh ?? 'ssh'} -o ${shQuote(option)}`;
      return { args: ['-e', value, ...args], env: {}, note: `rsync: added -e ${value}` };
    }
    default:
      return { args, env: {}, note: `${basename(program)}: the proxy variables only` };
  }
}
