import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatHostPort } from '../route/target.ts';
import { proxyCommandValue, shQuote, winQuote } from './inject.ts';

// `burrow ssh-config`: ~/.ssh/config blocks. Rendering is pure (test/unit/wrap-ssh-config.test.ts); --write puts a
// block between marker comments, replacing the block with the same markers if there is one (idempotent), before the
// first Host/Match line (options above it are global and must stay so), with a backup of the previous file.

export interface HostBlockOptions {
  hosts: string[];
  /** burrow's words (inject.ts burrowWords) and extra `connect` options (route flags, never credentials). */
  burrow: string[];
  connectOptions?: string[];
  multiplex: boolean;
  /** `connect --fdpass` with `ProxyUseFdpass yes` (left out for Windows OpenSSH, which cannot pass descriptors). */
  fdpass?: boolean;
  aliveInterval?: number;
  platform?: NodeJS.Platform;
}

export function renderHostBlock(options: HostBlockOptions): string {
  const platform = options.platform ?? process.platform;
  const fdpass = options.fdpass === true && platform !== 'win32';
  const lines = [
    `Host ${options.hosts.join(' ')}`,
    `    ProxyCommand ${proxyCommandValue(options.burrow, [...(fdpass ? ['--fdpass'] : []), ...(options.connectOptions ?? [])], platform)}`,
  ];
  if (fdpass) {
    lines.push('    # burrow opens the tunnel, hands the socket to ssh and exits: no burrow process per session (--no-fdpass leaves this out).', '    ProxyUseFdpass yes');
  }
  lines.push(
    '    # Keeps idle sessions alive through proxies that cut idle tunnels.',
    `    ServerAliveInterval ${options.aliveInterval ?? 30}`,
  );
  if (options.multiplex && platform !== 'win32') {
    lines.push(
      '    # Later sessions reuse the first connection and skip the ProxyCommand start-up (--no-multiplex leaves this out).',
      '    ControlMaster auto',
      '    ControlPath ~/.ssh/burrow-cm-%C',
      '    ControlPersist 10m',
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface TeleportBlockOptions {
  cluster: string;
  /** The Teleport proxy's host and web port. */
  proxyHost: string;
  proxyPort: number;
  burrow: string[];
  /** tsh's user (from the profile), for IdentityFile/CertificateFile; omitted when unknown. */
  user?: string;
  tshHome?: string;
  platform?: NodeJS.Platform;
}

/**
 * What `tsh config` writes, with the ProxyCommand running `tsh proxy ssh` through `burrow tsh` (REFERENCE.md §1:
 * `ProxyCommand "tsh" proxy ssh --cluster=C --proxy=HOST:443 %r@%h:%p`).
 */
export function renderTeleportBlock(options: TeleportBlockOptions): string {
  const platform = options.platform ?? process.platform;
  const quote = platform === 'win32' ? winQuote : shQuote;
  const home = options.tshHome ?? '~/.tsh';
  const proxy = formatHostPort(options.proxyHost, options.proxyPort);
  const words = [...options.burrow, 'tsh', '-q', '--', 'proxy', 'ssh', `--cluster=${options.cluster}`, `--proxy=${proxy}`];
  const command = `${words.map((w) => quote(w).replace(/%/g, '%%')).join(' ')} %r@%h:%p`;
  const lines = [
    `# Teleport cluster ${options.cluster} through ${proxy}, as "tsh config" writes it, with tsh run by burrow tsh.`,
    `Host *.${options.cluster} ${options.proxyHost}`,
    `    UserKnownHostsFile "${home}/known_hosts"`,
  ];
  if (options.user) {
    lines.push(`    IdentityFile "${home}/keys/${options.proxyHost}/${options.user}"`);
    lines.push(`    CertificateFile "${home}/keys/${options.proxyHost}/${options.user}-ssh/${options.cluster}-cert.pub"`);
  } else {
    lines.push('    # tsh login first; then burrow ssh-config --teleport adds IdentityFile and CertificateFile from the profile.');
  }
  lines.push('    HostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com');
  lines.push(`Host *.${options.cluster} !${options.proxyHost}`, '    Port 3022', `    ProxyCommand ${command}`);
  return `${lines.join('\n')}\n`;
}

export function markers(label: string): { begin: string; end: string } {
  return { begin: `# >>> burrow ssh-config ${label} >>>`, end: `# <<< burrow ssh-config ${label} <<<` };
}

/** The file's text with the block (between its markers) replaced or inserted. Pure. */
export function upsertBlock(text: string, label: string, block: string): string {
  const { begin, end } = markers(label);
  const section = `${begin}\n# Written by burrow ssh-config: run it again to update, or delete through the closing marker.\n${block}${end}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === begin);
  const stop = start >= 0 ? lines.findIndex((l, i) => i > start && l.trim() === end) : -1;
  if (start >= 0 && stop > start) {
    const before = lines.slice(0, start).join('\n');
    const after = lines.slice(stop + 1).join('\n');
    return `${before}${start > 0 ? '\n' : ''}${section}${after}`;
  }
  // Before the first Host or Match line: ssh_config applies the first value it finds, and options above the first
  // Host line are global, so the block must not go above them.
  const first = lines.findIndex((l) => /^\s*(host|match)\b/i.test(l));
  if (first < 0) {
    const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
    return `${body}${body === '' ? '' : '\n'}${section}`;
  }
  return [...lines.slice(0, first), `${section}`, ...lines.slice(first)].join('\n');
}

export interface WriteResult {
  file: string;
  changed: boolean;
  backup?: string;
}

export function writeBlock(file: string, label: string, block: string): WriteResult {
  const exists = existsSync(file);
  const before = exists ? readFileSync(file, 'utf8') : '';
  const after = upsertBlock(before, label, block);
  if (exists && after === before) return { file, changed: false };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let backup: string | undefined;
  if (exists) {
    backup = `${file}.burrow-backup`;
    copyFileSync(file, backup);
    chmodSync(backup, statSync(file).mode & 0o777);
  }
  writeFileSync(file, after, { mode: 0o600 });
  return { file, changed: true, ...(backup ? { backup } : {}) };
}
