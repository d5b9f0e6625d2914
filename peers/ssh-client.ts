// OpenSSH's ssh and scp against an sshd peer, non-interactively: no user config, no agent, no known_hosts.
import { requireBinary } from './binaries.ts';
import { run, type RunOptions, type RunResult } from './run.ts';
import type { SshdPeer } from './sshd.ts';

/** The OpenSSH client options every run uses: no user config, no agent, no known_hosts, no prompts. */
export function sshBaseOptions(sshd: SshdPeer, proxyCommand?: string): string[] {
  const options = [
    '-F', '/dev/null',
    '-i', sshd.keyPath,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=20',
    '-o', 'ControlMaster=no',
    '-o', 'ControlPath=none',
  ];
  if (proxyCommand !== undefined) options.push('-o', `ProxyCommand=${proxyCommand}`);
  return options;
}

export interface SshOptions extends RunOptions {
  /** `ProxyCommand` (OpenSSH expands %h and %p). Without it ssh connects directly. */
  proxyCommand?: string;
  /** The host name ssh is given (the ProxyCommand's %h). Default 127.0.0.1. */
  host?: string;
  /** Extra ssh options before the destination. */
  extraArgs?: string[];
}

/** `ssh … user@host -p PORT COMMAND`, returning {code, stdout, stderr}. */
export function runSsh(sshd: SshdPeer, command: string, options: SshOptions = {}): Promise<RunResult> {
  const args = [
    ...sshBaseOptions(sshd, options.proxyCommand),
    '-p', String(sshd.port),
    ...(options.extraArgs ?? []),
    `${sshd.user}@${options.host ?? sshd.host}`,
    command,
  ];
  return run(requireBinary('ssh'), args, options);
}

/**
 * `scp` between a local path and one on the sshd machine. `direction` says which way; the remote path is absolute.
 * OpenSSH 9's scp uses SFTP (the sshd here has the sftp subsystem).
 */
export function runScp(
  sshd: SshdPeer,
  direction: 'upload' | 'download',
  localPath: string,
  remotePath: string,
  options: SshOptions = {},
): Promise<RunResult> {
  const remote = `${sshd.user}@${options.host ?? sshd.host}:${remotePath}`;
  const [from, to] = direction === 'upload' ? [localPath, remote] : [remote, localPath];
  const args = [...sshBaseOptions(sshd, options.proxyCommand), '-P', String(sshd.port), '-q', ...(options.extraArgs ?? []), from, to];
  return run(requireBinary('scp'), args, { timeoutMs: 120_000, ...options });
}
