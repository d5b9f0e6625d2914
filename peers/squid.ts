// squid on 127.0.0.1 with its own config, optionally requiring Basic, Digest, NTLM (ntlm_fake_auth) or Negotiate.
//
// Facts this depends on (found by running squid 5.7 on Debian 12, see also shared/REFERENCE.md §3):
// - squid started as root drops to `cache_effective_user` (Debian's build defaults to `proxy`) right after parsing
//   its config, so its temp dir must belong to `proxy`; `cache_effective_user root` is refused. `-N` keeps it in the
//   foreground without kids; `-n NAME` gives each instance its own service name (pid/shm/IPC names). The default
//   `shutdown_lifetime` is 30 s: we set 0 so stop() is quick. Its default config denies CONNECT `to_localhost`; ours
//   writes its own http_access rules. `dns_nameservers 127.0.0.1`: names come from our hosts_file, never from the
//   machine's resolver.
// - basic_ncsa_auth accepts crypt/MD5/APR1 hashes but not `{SHA}`; we write an APR1 hash made here (no openssl or
//   htpasswd needed). squid splits Basic credentials at the first `:`, so a password with `:` works.
// - squid 5 closes the whole tunnel on a client half-close.
import { createHash } from 'node:crypto';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apr1 } from './apr1.ts';
import { isExecutable, isRoot, requireBinary } from './binaries.ts';
import { hostsFileText, lookupIds, makeTempDir, startDaemon, withFreePort, type Peer } from './daemon.ts';
import type { KdcPeer } from './kdc.ts';
import { LOOPBACK } from './net.ts';

/** The squid Basic-auth user and a password with `:`, space and `@` (percent-encode it in a URL). */
export const SQUID_USER = 'burrow';
export const SQUID_PASSWORD = 'p:a s@ss';

export interface SquidOptions {
  /** Require Basic auth (basic_ncsa_auth). `true` means the one user SQUID_USER / SQUID_PASSWORD. */
  auth?: boolean | Array<{ user: string; password: string }>;
  /**
   * Which schemes squid offers when `auth` is set, in this order (default Basic only). NTLM uses squid's
   * ntlm_fake_auth helper: the real three-leg exchange on one connection, accepting any user and password.
   */
  authSchemes?: Array<'basic' | 'digest' | 'ntlm' | 'negotiate'>;
  /**
   * Users squid re-challenges (407) after they authenticated, as if their password were wrong: a `proxy_auth` ACL
   * last on a deny line makes squid answer 407, not 403. With ntlm_fake_auth (which takes any password) this is
   * how an NTLM squid "rejects a password".
   */
  rejectUsers?: string[];
  /** For 'negotiate': the realm startKdc() made (negotiate_kerberos_auth reads the keytab as the proxy user). */
  kerberos?: KdcPeer;
  /** Admit only clients whose User-Agent matches this regular expression (squid answers 403 otherwise). */
  userAgent?: string;
  /** Allow CONNECT only to these ports (squid answers 403 otherwise). Default: any port. */
  connectPorts?: number[];
  /** Names squid resolves itself (its `hosts_file`), e.g. `{ 'sshd.burrow.test': '127.0.0.1' }`. */
  hosts?: Record<string, string>;
  /** Also serve plain http:// requests (absolute-form GET and the like); default CONNECT only. */
  plainHttp?: boolean;
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
      if (options.rejectUsers?.length) {
        // Matched anywhere in the name: ntlm_fake_auth reports NTLMv2 users with stray bytes around them ("CORPb\\bobv").
        lines.push(`acl rejected proxy_auth_regex -i ${options.rejectUsers.join(' ')}`, 'http_access deny rejected');
      }
    }
    if (options.userAgent) lines.push(`acl admitted_agents browser ${options.userAgent}`, 'http_access deny !admitted_agents');
    if (options.connectPorts) {
      lines.push(`acl allowed_ports port ${options.connectPorts.join(' ')}`, 'http_access deny CONNECT !allowed_ports');
    }
    lines.push('http_access allow CONNECT', ...(options.plainHttp ? ['http_access allow all'] : []), 'http_access deny all');
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
