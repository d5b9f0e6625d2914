// An MIT Kerberos KDC on loopback, with a realm made for the run (for squid's negotiate_kerberos_auth).
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { requireBinary } from './binaries.ts';
import { makeTempDir, startDaemon, withFreePort, type Peer } from './daemon.ts';
import { run } from './run.ts';

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

/** Whether burrow's optional kerberos npm package (Negotiate) is built here: without it, Negotiate tests skip. */
export function haveKerberosModule(): boolean {
  try {
    createRequire(import.meta.url)('kerberos');
    return true;
  } catch {
    return false;
  }
}

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
