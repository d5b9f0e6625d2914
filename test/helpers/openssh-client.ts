import { cleanEnv } from '../../peers/env.ts';
import { spawn, spawnSync } from 'node:child_process';

export const HAVE_SSH = spawnSync('ssh', ['-V']).status === 0;

export interface SshResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

type SshOptions = { host: string; port: number; proxyCommand: string; command: string; input?: Buffer | string; env?: NodeJS.ProcessEnv; extra?: string[] };

/** The system's OpenSSH client's arguments: non-interactive, the given ProxyCommand, no user config, no known_hosts. */
export function sshArgs(options: Omit<SshOptions, 'input' | 'env'>): string[] {
  return [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=15',
    '-o', `ProxyCommand=${options.proxyCommand}`,
    '-p', String(options.port),
    ...(options.extra ?? []),
    `tester@${options.host}`,
    options.command,
  ];
}

/** Runs the system's OpenSSH client (sshArgs) to the end of `command`, with `input` on its stdin. */
export function runSsh(options: SshOptions): Promise<SshResult> {
  const args = sshArgs(options);
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout), stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
