// Real daemons for the interop suite: squid, dante, microsocks, tinyproxy and OpenSSH's sshd, each started on
// 127.0.0.1 with a free port, its own temp dir (config, pid file, logs) and nothing changed in /etc. Debian 12 as root:
// .ci/install-peers.sh installs the packages and the `burrowtest` user that dante's username auth checks.
//
// Every start is bounded: the helper polls the port until it accepts a connection, and fails with the daemon's log
// tail when the daemon exits early or the deadline passes. A free port is taken by binding port 0 and closing it; if
// the daemon then loses the race for it ("Address already in use"), the start is retried with another port.
//
// Facts this file depends on (found by running the daemons on Debian 12, see also shared/REFERENCE.md §3):
// - squid 5.7 started as root drops to `cache_effective_user` (Debian's build defaults to `proxy`) right after parsing
//   its config, so its temp dir must belong to `proxy`; `cache_effective_user root` is refused. `-N` keeps it in the
//   foreground without kids; `-n NAME` gives each instance its own service name (pid/shm/IPC names). The default
//   `shutdown_lifetime` is 30 s: we set 0 so stop() is quick. Its default config denies CONNECT `to_localhost`; ours
//   writes its own http_access rules. `dns_nameservers 127.0.0.1`: names come from our hosts_file, never from the
//   machine's resolver.
// - basic_ncsa_auth accepts crypt/MD5/APR1 hashes but not `{SHA}`; we write an APR1 hash made here (no openssl or
//   htpasswd needed). squid splits Basic credentials at the first `:`, so a password with `:` works.
// - danted forks children and stays in the foreground without -D; `socksmethod: username` checks the system password
//   database (shadow, via crypt), so it needs `user.privileged: root` and a real system user. It has no hosts file
//   option: for a name only the proxy can resolve we run it under `unshare --mount` with /etc/hosts bind-mounted
//   from the temp dir (private mount namespace: the rest of the machine does not see it).
// - tinyproxy as root needs `User`/`Group` and writes its log as that user; without ConnectPort it allows CONNECT to
//   any port. `-d` keeps it in the foreground.
// - sshd needs an absolute path (re-exec), /run/sshd, `UsePAM no` and `StrictModes no` for keys in /tmp, and
//   `Subsystem sftp` because OpenSSH 9's scp speaks SFTP.
// - squid 5 and tinyproxy close the whole tunnel on a client half-close; dante keeps the other direction open.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, chmodSync, chownSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { cleanEnv } from './run-burrow.ts';

export const LOOPBACK = '127.0.0.1';

/** The squid Basic-auth user and a password with `:`, space and `@` (percent-encode it in a URL). */
export const SQUID_USER = 'burrow';
export const SQUID_PASSWORD = 'p:a s@ss';

/** The system user that .ci/install-peers.sh creates for dante's `socksmethod: username`. */
export const DANTE_USER = 'burrowtest';
export const DANTE_PASSWORD = 'd@nte p4ss:1';

/** microsocks' -u/-P credentials (it takes them from argv, so nothing with a space). */
export const MICROSOCKS_USER = 'msuser';
export const MICROSOCKS_PASSWORD = 'm!cro:s@cks';

export interface Peer {
  host: string;
  port: number;
  /** How a client names this peer: `http://127.0.0.1:PORT`, `socks5h://127.0.0.1:PORT`, `ssh://…`. No credentials. */
  url: string;
  /** The daemon's main log (the first place to look when something fails). */
  logPath: string;
  /** The per-peer temp dir: config, pid file, logs. Removed by stop() unless BURROW_KEEP_PEER_DIRS=1. */
  dir: string;
  pid: number;
  /** The main log's last lines (and the daemon's captured stdout/stderr). */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Binaries and environment checks

const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of an executable on PATH (or in the sbin dirs, which a non-login PATH may lack), or undefined. */
export function findBinary(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function haveBinary(name: string): boolean {
  return findBinary(name) !== undefined;
}

/** The names among `names` that are not installed (for `describe.skipIf(missing.length > 0)` with a visible reason). */
export function missingBinaries(...names: string[]): string[] {
  return names.filter((name) => !haveBinary(name));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Whether the system user for dante's username auth exists (.ci/install-peers.sh creates it). */
export function danteUserExists(): boolean {
  return spawnSync('id', ['-u', DANTE_USER], { stdio: 'ignore' }).status === 0;
}

/**
 * Why the interop suite (or a part of it) cannot run here, or undefined when it can. Tests print this as the skip
 * reason; in CI everything is installed and nothing should skip.
 */
export function whyCannotRun(...binaries: string[]): string | undefined {
  if (!isRoot()) return 'the interop suite needs root (squid/danted/tinyproxy drop privileges, sshd logs in as root)';
  const missing = missingBinaries(...binaries);
  if (missing.length > 0) return `not installed: ${missing.join(', ')} (run .ci/install-peers.sh)`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Ports, temp dirs, processes

export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `burrow-${prefix}-`));
}

function keepDirs(): boolean {
  return process.env.BURROW_KEEP_PEER_DIRS === '1';
}

function lookupIds(user: string, group: string): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('getent', ['group', group], { encoding: 'utf8' });
  if (uid.status !== 0) throw new Error(`real-peers: system user ${user} does not exist`);
  const gidField = gid.status === 0 ? gid.stdout.split(':')[2] : undefined;
  return { uid: Number(uid.stdout.trim()), gid: gidField ? Number(gidField) : Number(uid.stdout.trim()) };
}

/** Every daemon this process started, killed on exit so a crashed test leaves no daemon behind. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when a TCP connection to host:port succeeds, within `timeoutMs` of the attempt. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

interface DaemonSpec {
  name: string;
  /** argv[0] is the program. */
  argv: string[];
  dir: string;
  port: number;
  /** The daemon's own log file (if it writes one); its stdout/stderr always go to DIR/NAME.out. */
  logPath?: string;
  url: string;
  readyTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

class StartError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
  }
}

async function startDaemon(spec: DaemonSpec): Promise<Peer> {
  const outPath = join(spec.dir, `${spec.name}.out`);
  const outFd = openSync(outPath, 'a');
  const [program, ...args] = spec.argv;
  let child: ChildProcess;
  try {
    child = spawn(program!, args, { cwd: spec.dir, stdio: ['ignore', outFd, outFd], env: spec.env ?? process.env });
  } finally {
    closeSync(outFd);
  }
  track(child);
  const logPath = spec.logPath ?? outPath;

  const logTail = (lines = 40): string => {
    const parts: string[] = [];
    if (spec.logPath) {
      const main = tailFile(spec.logPath, lines);
      if (main) parts.push(`--- ${spec.logPath}\n${main}`);
    }
    const out = tailFile(outPath, lines);
    if (out) parts.push(`--- ${outPath}\n${out}`);
    return parts.join('\n') || '(no log output)';
  };

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      spawnError = error;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(timer);
    }
    if (!keepDirs()) rmSync(spec.dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + spec.readyTimeoutMs;
  for (;;) {
    if (exited) {
      const tail = logTail();
      await stop();
      const how = spawnError ? `could not be started (${spawnError.message})` : `exited (code ${exited.code}, signal ${exited.signal})`;
      throw new StartError(
        `real-peers: ${spec.name} ${how} before accepting connections on ${LOOPBACK}:${spec.port}\n` +
          `command: ${spec.argv.join(' ')}\n${tail}`,
        /address already in use|EADDRINUSE|could not bind|bind\(\) failed|Cannot bind/i.test(tail),
      );
    }
    if (await canConnect(LOOPBACK, spec.port, 500)) break;
    if (Date.now() > deadline) {
      const tail = logTail();
      await stop();
      throw new StartError(
        `real-peers: ${spec.name} did not accept connections on ${LOOPBACK}:${spec.port} within ${spec.readyTimeoutMs} ms\n` +
          `command: ${spec.argv.join(' ')}\n${tail}`,
        false,
      );
    }
    await delay(100);
  }

  return { host: LOOPBACK, port: spec.port, url: spec.url, logPath, dir: spec.dir, pid: child.pid ?? -1, logTail, stop };
}

/** Runs `attempt(port)` with a fresh free port, again (up to 3 times) when the daemon lost the port to someone else. */
async function withFreePort<T>(attempt: (port: number) => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const port = await freePort();
    try {
      return await attempt(port);
    } catch (error) {
      if (i < 2 && error instanceof StartError && error.addressInUse) continue;
      throw error;
    }
  }
}

function requireBinary(name: string): string {
  const path = findBinary(name);
  if (!path) throw new Error(`real-peers: ${name} is not installed (run .ci/install-peers.sh)`);
  return path;
}

function hostsFileText(hosts: Record<string, string>): string {
  return Object.entries(hosts)
    .map(([name, ip]) => `${ip}\t${name}\n`)
    .join('');
}

// ---------------------------------------------------------------------------------------------------------------
// squid

/** APR1 (Apache's MD5-crypt) hash, which squid's basic_ncsa_auth accepts: `$apr1$salt$hash`. */
export function apr1(password: string, salt = randomBytes(6).toString('base64').replace(/[^A-Za-z0-9./]/g, '.').slice(0, 8)): string {
  const magic = '$apr1$';
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 8), 'utf8');
  const md5 = (...parts: Buffer[]): Buffer => {
    const h = createHash('md5');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  let alt = md5(pw, s, pw);
  const ctx = createHash('md5');
  ctx.update(pw);
  ctx.update(magic);
  ctx.update(s);
  for (let n = pw.length; n > 0; n -= 16) ctx.update(alt.subarray(0, Math.min(n, 16)));
  for (let i = pw.length; i > 0; i >>= 1) ctx.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash('md5');
    c.update(i & 1 ? pw : final);
    if (i % 3) c.update(s);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? final : pw);
    final = c.digest();
  }
  alt = final;
  const itoa64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const to64 = (value: number, count: number): string => {
    let out = '';
    for (let i = 0; i < count; i++) {
      out += itoa64[value & 0x3f];
      value >>= 6;
    }
    return out;
  };
  const f = alt;
  const b = (i: number): number => f[i]!;
  const encoded =
    to64((b(0) << 16) | (b(6) << 8) | b(12), 4) +
    to64((b(1) << 16) | (b(7) << 8) | b(13), 4) +
    to64((b(2) << 16) | (b(8) << 8) | b(14), 4) +
    to64((b(3) << 16) | (b(9) << 8) | b(15), 4) +
    to64((b(4) << 16) | (b(10) << 8) | b(5), 4) +
    to64(b(11), 2);
  return `${magic}${salt.slice(0, 8)}$${encoded}`;
}

export interface SquidOptions {
  /** Require Basic auth (basic_ncsa_auth). `true` means the one user SQUID_USER / SQUID_PASSWORD. */
  auth?: boolean | Array<{ user: string; password: string }>;
  /**
   * Which schemes squid offers when `auth` is set, in this order (default Basic only). NTLM uses squid's
   * ntlm_fake_auth helper: the real three-leg exchange on one connection, accepting any user and password.
   */
  authSchemes?: Array<'basic' | 'digest' | 'ntlm' | 'negotiate'>;
  /** For 'negotiate': the realm startKdc() made (negotiate_kerberos_auth reads the keytab as the proxy user). */
  kerberos?: KdcPeer;
  /** Allow CONNECT only to these ports (squid answers 403 otherwise). Default: any port. */
  connectPorts?: number[];
  /** Names squid resolves itself (its `hosts_file`), e.g. `{ 'sshd.burrow.test': '127.0.0.1' }`. */
  hosts?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface SquidPeer extends Peer {
  /** squid's access.log: one line per finished request, e.g. `... TCP_TUNNEL/200 ... CONNECT host:port ...`. */
  accessLogPath: string;
  /** access.log's text (written when a tunnel closes; squid may buffer it briefly). */
  accessLog(): string;
}

export async function startSquid(options: SquidOptions = {}): Promise<SquidPeer> {
  const squid = requireBinary('squid');
  const ncsa = '/usr/lib/squid/basic_ncsa_auth';
  if (options.auth && !isExecutable(ncsa)) throw new Error(`real-peers: ${ncsa} is missing (Debian package squid)`);
  if (!isRoot()) throw new Error('real-peers: squid helpers need root (squid switches to the proxy user)');
  const { uid, gid } = lookupIds('proxy', 'proxy');

  return await withFreePort(async (port) => {
    const dir = makeTempDir('squid');
    const lines: string[] = [
      `http_port ${LOOPBACK}:${port}`,
      `pid_filename ${join(dir, 'squid.pid')}`,
      `cache_log ${join(dir, 'cache.log')}`,
      `access_log stdio:${join(dir, 'access.log')}`,
      'cache_store_log none',
      'logfile_rotate 0',
      'cache deny all',
      'cache_mem 8 MB',
      `coredump_dir ${dir}`,
      'visible_hostname burrow-test-squid',
      'dns_nameservers 127.0.0.1',
      'shutdown_lifetime 0 seconds',
      'pinger_enable off',
      'icp_port 0',
      'htcp_port 0',
      'netdb_filename none',
      'max_filedescriptors 4096',
      'acl CONNECT method CONNECT',
    ];
    if (options.hosts) {
      writeFileSync(join(dir, 'hosts'), hostsFileText(options.hosts));
      lines.push(`hosts_file ${join(dir, 'hosts')}`);
    } else {
      lines.push('hosts_file none');
    }
    if (options.auth) {
      const users = options.auth === true ? [{ user: SQUID_USER, password: SQUID_PASSWORD }] : options.auth;
      writeFileSync(join(dir, 'passwd'), users.map((u) => `${u.user}:${apr1(u.password)}\n`).join(''));
      // digest_file_auth -c reads "user:realm:HA1" lines (its plain "user:password" form breaks on a ":" in the password).
      const ha1 = (u: { user: string; password: string }) => createHash('md5').update(`${u.user}:burrow-test:${u.password}`).digest('hex');
      writeFileSync(join(dir, 'digest-passwd'), users.map((u) => `${u.user}:burrow-test:${ha1(u)}\n`).join(''));
      for (const scheme of options.authSchemes ?? ['basic']) {
        if (scheme === 'basic') {
          lines.push(
            `auth_param basic program ${ncsa} ${join(dir, 'passwd')}`,
            'auth_param basic children 2 startup=1 idle=1',
            'auth_param basic realm burrow-test',
            'auth_param basic credentialsttl 1 minute',
          );
        } else if (scheme === 'digest') {
          lines.push(
            `auth_param digest program /usr/lib/squid/digest_file_auth -c ${join(dir, 'digest-passwd')}`,
            'auth_param digest children 2 startup=1 idle=1',
            'auth_param digest realm burrow-test',
          );
        } else if (scheme === 'negotiate') {
          if (!options.kerberos) throw new Error('real-peers: the negotiate scheme needs options.kerberos (startKdc())');
          lines.push(
            `auth_param negotiate program /usr/lib/squid/negotiate_kerberos_auth -s ${options.kerberos.servicePrincipal}`,
            'auth_param negotiate children 2 startup=1 idle=1',
            'auth_param negotiate keep_alive on',
          );
        } else {
          lines.push('auth_param ntlm program /usr/lib/squid/ntlm_fake_auth', 'auth_param ntlm children 2 startup=1 idle=1');
        }
      }
      lines.push('acl authenticated proxy_auth REQUIRED', 'http_access deny !authenticated');
    }
    if (options.connectPorts) {
      lines.push(`acl allowed_ports port ${options.connectPorts.join(' ')}`, 'http_access deny CONNECT !allowed_ports');
    }
    lines.push('http_access allow CONNECT', 'http_access deny all');
    const conf = join(dir, 'squid.conf');
    writeFileSync(conf, `${lines.join('\n')}\n`);
    // squid switches to `proxy` before it opens its logs: give it the dir.
    chownSync(dir, uid, gid);

    const accessLogPath = join(dir, 'access.log');
    const peer = await startDaemon({
      name: 'squid',
      argv: [squid, '-N', '-n', `burrow${port}`, '-f', conf],
      dir,
      port,
      logPath: join(dir, 'cache.log'),
      url: `http://${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      // negotiate_kerberos_auth finds the realm and the service key through the environment squid passes on.
      ...(options.kerberos ? { env: { ...process.env, ...options.kerberos.serverEnv } } : {}),
    });
    return { ...peer, accessLogPath, accessLog: () => (existsSync(accessLogPath) ? readFileSync(accessLogPath, 'utf8') : '') };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// dante

export interface DanteOptions {
  /** `username`: RFC 1929 user/password checked against the system users (DANTE_USER / DANTE_PASSWORD). */
  auth?: 'none' | 'username';
  /**
   * Names dante resolves itself. danted has no hosts-file option, so it then runs in a private mount namespace
   * (`unshare --mount`) with /etc/hosts bind-mounted from the temp dir; the machine's /etc/hosts is not touched.
   */
  hosts?: Record<string, string>;
  readyTimeoutMs?: number;
}

export async function startDante(options: DanteOptions = {}): Promise<Peer> {
  const danted = requireBinary('danted');
  if (!isRoot()) throw new Error('real-peers: danted needs root here (user.privileged: root)');
  if (options.auth === 'username' && !danteUserExists()) {
    throw new Error(`real-peers: dante username auth needs the system user ${DANTE_USER}; run .ci/install-peers.sh`);
  }
  const unshare = options.hosts ? requireBinary('unshare') : undefined;

  return await withFreePort(async (port) => {
    const dir = makeTempDir('dante');
    const logPath = join(dir, 'danted.log');
    const method = options.auth === 'username' ? 'username' : 'none';
    const conf = join(dir, 'danted.conf');
    writeFileSync(
      conf,
      [
        `logoutput: ${logPath}`,
        `internal: ${LOOPBACK} port = ${port}`,
        `external: ${LOOPBACK}`,
        'clientmethod: none',
        `socksmethod: ${method}`,
        'user.privileged: root',
        'user.unprivileged: nobody',
        'timeout.negotiate: 10',
        // No idle timeout on an established tunnel (dante's default io timeout is 0 = none for TCP).
        'client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: error\n}',
        'socks pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  command: connect\n  log: error connect disconnect\n}',
        'socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n  log: connect error\n}',
        '',
      ].join('\n'),
    );
    const pidFile = join(dir, 'danted.pid');
    let argv = [danted, '-f', conf, '-p', pidFile];
    if (options.hosts && unshare) {
      const hostsPath = join(dir, 'hosts');
      let base = '';
      try {
        base = readFileSync('/etc/hosts', 'utf8');
      } catch {
        base = '127.0.0.1\tlocalhost\n';
      }
      writeFileSync(hostsPath, `${base.endsWith('\n') || base === '' ? base : `${base}\n`}${hostsFileText(options.hosts)}`);
      // unshare execs sh, which execs danted: the pid we hold is danted's.
      argv = [unshare, '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsPath, ...argv];
    }
    return await startDaemon({
      name: 'danted',
      argv,
      dir,
      port,
      logPath,
      url: `socks5h://${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// microsocks

export interface MicrosocksOptions {
  /** Require user/password (MICROSOCKS_USER / MICROSOCKS_PASSWORD when `true`). */
  auth?: boolean | { user: string; password: string };
  readyTimeoutMs?: number;
}

export async function startMicrosocks(options: MicrosocksOptions = {}): Promise<Peer> {
  const microsocks = requireBinary('microsocks');
  const creds = options.auth === true ? { user: MICROSOCKS_USER, password: MICROSOCKS_PASSWORD } : options.auth || undefined;
  return await withFreePort(async (port) => {
    const dir = makeTempDir('microsocks');
    const argv = [microsocks, '-i', LOOPBACK, '-p', String(port)];
    if (creds) argv.push('-u', creds.user, '-P', creds.password);
    return await startDaemon({
      name: 'microsocks',
      argv,
      dir,
      port,
      url: `socks5h://${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// tinyproxy

export interface TinyproxyOptions {
  /** Allow CONNECT only to these ports. Default: any port. */
  connectPorts?: number[];
  readyTimeoutMs?: number;
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Peer> {
  const tinyproxy = requireBinary('tinyproxy');
  const root = isRoot();
  return await withFreePort(async (port) => {
    const dir = makeTempDir('tinyproxy');
    const logPath = join(dir, 'tinyproxy.log');
    const lines = [
      `Port ${port}`,
      `Listen ${LOOPBACK}`,
      'Timeout 600',
      `LogFile "${logPath}"`,
      'LogLevel Info',
      `PidFile "${join(dir, 'tinyproxy.pid')}"`,
      'MaxClients 50',
      `Allow ${LOOPBACK}`,
      'DisableViaHeader Yes',
      ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
    ];
    if (root) {
      // tinyproxy refuses to keep root; it writes its log as this user.
      const { uid, gid } = lookupIds('nobody', 'nogroup');
      lines.unshift('User nobody', 'Group nogroup');
      chownSync(dir, uid, gid);
    }
    const conf = join(dir, 'tinyproxy.conf');
    writeFileSync(conf, `${lines.join('\n')}\n`);
    return await startDaemon({
      name: 'tinyproxy',
      argv: [tinyproxy, '-d', '-c', conf],
      dir,
      port,
      logPath,
      url: `http://${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// sshd and the OpenSSH client

export interface SshdPeer extends Peer {
  /** The login user (the user running the tests; root in CI). */
  user: string;
  /** The client's private key, authorised by this sshd. */
  keyPath: string;
  /** The server's host public key line (`ssh-ed25519 AAAA…`). */
  hostPublicKey: string;
}

export async function startSshd(options: { readyTimeoutMs?: number } = {}): Promise<SshdPeer> {
  const sshd = requireBinary('sshd');
  const keygen = requireBinary('ssh-keygen');
  // Privilege separation dir, normally made by the systemd unit.
  if (isRoot() && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = userInfo().username;

  return await withFreePort(async (port) => {
    const dir = makeTempDir('sshd');
    const hostKey = join(dir, 'ssh_host_ed25519_key');
    const keyPath = join(dir, 'client_ed25519');
    for (const [file, comment] of [
      [hostKey, 'burrow-test-host'],
      [keyPath, 'burrow-test-client'],
    ] as const) {
      const made = spawnSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`real-peers: ssh-keygen failed: ${made.stderr}`);
    }
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${keyPath}.pub`));
    const conf = join(dir, 'sshd_config');
    writeFileSync(
      conf,
      [
        `Port ${port}`,
        `ListenAddress ${LOOPBACK}`,
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'PrintLastLog no',
        'UseDNS no',
        'MaxStartups 50:30:100',
        'Subsystem sftp /usr/lib/openssh/sftp-server',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const peer = await startDaemon({
      name: 'sshd',
      argv: [sshd, '-D', '-e', '-f', conf],
      dir,
      port,
      url: `ssh://${user}@${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
    return { ...peer, user, keyPath, hostPublicKey: readFileSync(`${hostKey}.pub`, 'utf8').trim() };
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the run was killed for exceeding its time limit. */
  timedOut: boolean;
  durationMs: number;
}

// One definition of the clean test environment, shared with the hermetic suites.
export { cleanEnv };

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Without it stdin is closed at once (as /dev/null). */
  input?: string | Buffer;
  timeoutMs?: number;
  cwd?: string;
}

/** Runs a program, collecting stdout/stderr, killing it (SIGKILL) at the time limit. */
export function run(program: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: options.env ?? cleanEnv(),
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => {
      // the program may exit without reading its input
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        durationMs: Date.now() - started,
      });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

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

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// A Node target for half-close tests

export interface ReplyAfterEofServer {
  host: string;
  port: number;
  /** For each connection, what it received before the client's FIN. */
  received: Buffer[];
  stop(): Promise<void>;
}

/**
 * A TCP server that reads until the client half-closes, then answers `got N bytes sha256 HEX\n` and closes. A client
 * (or a proxy) that ends the whole connection on stdin EOF never sees the answer.
 */
export async function startReplyAfterEofServer(): Promise<ReplyAfterEofServer> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('end', () => {
      const all = Buffer.concat(chunks);
      received.push(all);
      // A short pause makes "the reply arrives after the FIN went through" unambiguous.
      setTimeout(() => socket.end(replyFor(all)), 50);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: LOOPBACK,
    port,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The answer startReplyAfterEofServer gives for `data`. */
export function replyFor(data: Buffer | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return `got ${buf.length} bytes sha256 ${createHash('sha256').update(buf).digest('hex')}\n`;
}

/** Percent-encodes user and password into a proxy URL: `http://user:p%3Aa%20s%40ss@127.0.0.1:PORT`. */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  return `${u.protocol}//${encodeURIComponent(user)}:${encodeURIComponent(password)}@${u.host}`;
}

/** Quotes one word for /bin/sh (OpenSSH runs the ProxyCommand with the user's shell: `exec COMMAND`). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface ConnectAnswer {
  /** `HTTP/1.1 200 Connection established`, or '' when the proxy closed without answering. */
  statusLine: string;
  status: number;
  /** The whole header block, status line included. */
  head: string;
  /** Bytes after the blank line that arrived within the wait (an SSH banner, a body). */
  rest: Buffer;
}

/**
 * Sends `CONNECT target HTTP/1.1` to an HTTP proxy and reads the answer's header block (bounded to 64 KiB and
 * `timeoutMs`), then `waitAfterMs` more for bytes that follow. For checking proxy configs without any client tool.
 */
export function httpConnect(
  proxy: { host: string; port: number },
  target: string,
  headers: Record<string, string> = {},
  { timeoutMs = 10_000, waitAfterMs = 300 } = {},
): Promise<ConnectAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    let buf = Buffer.alloc(0);
    let headEnd = -1;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const end = headEnd >= 0 ? headEnd : buf.length;
      const head = buf.subarray(0, end).toString('latin1');
      const statusLine = head.split('\r\n')[0] ?? '';
      const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({ statusLine, status, head, rest: headEnd >= 0 ? buf.subarray(headEnd + 4) : Buffer.alloc(0) });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (headEnd < 0) {
        headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd >= 0) setTimeout(finish, waitAfterMs);
        else if (buf.length > 65536) finish();
      }
    });
    socket.once('close', finish);
    socket.once('error', (error) => {
      if (!settled && buf.length === 0) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      } else finish();
    });
    socket.once('connect', () => {
      const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  });
}

/** `Basic base64(user:password)` for a Proxy-Authorization header. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// An MIT Kerberos KDC on loopback, with a realm made for the run

export interface KdcPeer extends Peer {
  realm: string;
  /** The proxy's service principal, HTTP/localhost@REALM: burrow asks for HTTP@localhost. */
  servicePrincipal: string;
  /** Environment for the proxy side: KRB5_CONFIG and KRB5_KTNAME. */
  serverEnv: Record<string, string>;
  /** `kinit` as USER with PASSWORD into a fresh ticket cache; returns the client environment (KRB5_CONFIG, KRB5CCNAME). */
  kinit(user: string): Promise<Record<string, string>>;
  /** Users made with addUser, with their passwords. */
  addUser(user: string, password: string): Promise<void>;
}

export const KDC_REALM = 'BURROW.TEST';

export async function startKdc(): Promise<KdcPeer> {
  const krb5kdc = requireBinary('krb5kdc');
  const kdb5 = requireBinary('kdb5_util');
  const kadmin = requireBinary('kadmin.local');
  const passwords = new Map<string, string>();
  return await withFreePort(async (port) => {
    const dir = makeTempDir('kdc');
    const realm = KDC_REALM;
    const krb5Conf = join(dir, 'krb5.conf');
    const kdcConf = join(dir, 'kdc.conf');
    writeFileSync(
      krb5Conf,
      [
        '[libdefaults]',
        `  default_realm = ${realm}`,
        '  dns_lookup_realm = false',
        '  dns_lookup_kdc = false',
        '  rdns = false',
        '  dns_canonicalize_hostname = false',
        '  udp_preference_limit = 1',
        '[realms]',
        `  ${realm} = {`,
        `    kdc = 127.0.0.1:${port}`,
        '  }',
        '[domain_realm]',
        `  localhost = ${realm}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      kdcConf,
      [
        '[kdcdefaults]',
        `  kdc_ports = ${port}`,
        `  kdc_tcp_listen = 127.0.0.1:${port}`,
        `  kdc_listen = 127.0.0.1:${port}`,
        '[realms]',
        `  ${realm} = {`,
        `    database_name = ${join(dir, 'principal')}`,
        `    key_stash_file = ${join(dir, 'stash')}`,
        `    acl_file = ${join(dir, 'kadm5.acl')}`,
        '    max_life = 1h',
        '  }',
        '[logging]',
        `  kdc = FILE:${join(dir, 'kdc.log')}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'kadm5.acl'), '');
    const env = { ...process.env, KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: kdcConf };
    const admin = async (query: string) => {
      const result = await run(kadmin, ['-r', realm, '-q', query], { env });
      if (result.code !== 0) throw new Error(`kadmin.local ${query}: ${result.stderr}`);
    };
    const created = await run(kdb5, ['create', '-s', '-r', realm, '-P', 'burrow-master-key'], { env });
    if (created.code !== 0) throw new Error(`kdb5_util create: ${created.stderr}`);
    const servicePrincipal = `HTTP/localhost@${realm}`;
    const keytab = join(dir, 'http.keytab');
    await admin(`addprinc -randkey ${servicePrincipal}`);
    await admin(`ktadd -k ${keytab} ${servicePrincipal}`);
    // squid's helper runs as the proxy user.
    chmodSync(keytab, 0o644);
    chmodSync(dir, 0o755);
    const peer = await startDaemon({
      name: 'krb5kdc',
      argv: [krb5kdc, '-n', '-r', realm],
      dir,
      port,
      logPath: join(dir, 'kdc.log'),
      url: `kerberos://127.0.0.1:${port}`,
      readyTimeoutMs: 15_000,
      env,
    });
    let caches = 0;
    return {
      ...peer,
      realm,
      servicePrincipal,
      serverEnv: { KRB5_CONFIG: krb5Conf, KRB5_KTNAME: `FILE:${keytab}` },
      addUser: async (user, password) => {
        passwords.set(user, password);
        await admin(`addprinc -pw "${password}" ${user}`);
      },
      kinit: async (user) => {
        const cache = join(dir, `cc-${++caches}`);
        const clientEnv = { KRB5_CONFIG: krb5Conf, KRB5CCNAME: `FILE:${cache}` };
        const result = await run(requireBinary('kinit'), [`${user}@${realm}`], { env: { ...process.env, ...clientEnv }, input: `${passwords.get(user) ?? ''}\n` });
        if (result.code !== 0) throw new Error(`kinit ${user}: ${result.stderr}`);
        return clientEnv;
      },
    };
  });
}
