// burrow tsh behind every proxy burrow can use, against real daemons: squid with NTLM (ntlm_fake_auth), Digest,
// Negotiate (a KDC made for the run) and Basic from ~/.netrc, dante as a socks5 proxy, and a TLS-inspecting proxy in
// front of a cluster with TLS routing. tsh and a Teleport cluster cannot be installed here: the Go stand-in
// (test/fixtures/tsh-standin) does what tsh does with proxies, and a Teleport-like proxy (test/helpers/
// teleport-proxy.ts) answers /webapi/ping and hands SSH to the real sshd. Each run checks that the stand-in reached
// sshd's banner (or, for OpenSSH, ran a command) and that no upstream proxy password reached it.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInspectingProxy } from '../helpers/inspecting-proxy.ts';
import { BURROW } from '../helpers/run-burrow.ts';
import {
  SQUID_PASSWORD,
  SQUID_USER,
  cleanEnv,
  makeTempDir,
  run,
  startDante,
  haveKerberosModule,
  startKdc,
  startSquid,
  startSshd,
  whyCannotRun,
  withCredentials,
  type SshdPeer,
} from '../helpers/real-peers.ts';
import { startTeleportProxy, type TeleportProxy } from '../helpers/teleport-proxy.ts';
import { buildTshStandin, HAVE_GO, loopbackNameFromHosts, makeCaFor, TELEPORT_NAME, type HostCa } from '../helpers/wrap-peers.ts';

const TARGET_NAME = 'sshd.burrow.test';
const NTLM_PASSWORD = 'n7lm p@ss:w0rd';
const skipReason = whyCannotRun('squid', 'danted', 'sshd', 'ssh', 'ssh-keygen', 'unshare') ?? (HAVE_GO ? undefined : 'go is not installed; apt-get install golang-go');
const kerberosSkip = whyCannotRun('krb5kdc', 'kdb5_util', 'kadmin.local', 'kinit') ?? (haveKerberosModule() ? undefined : 'the optional kerberos npm package is not built here');
const LOOPBACK_NAME = loopbackNameFromHosts();
const hosts = { [TARGET_NAME]: '127.0.0.1', [TELEPORT_NAME]: '127.0.0.1' };

/** A password, percent-encoded and as a Basic token: none of them may reach tsh outside passthrough. */
function forms(user: string, password: string): string[] {
  return [password, encodeURIComponent(password), Buffer.from(`${user}:${password}`).toString('base64')];
}

describe.skipIf(skipReason)(`burrow tsh with the Go stand-in through real proxies${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const stops: Array<() => Promise<void>> = [];
  const keep = async <T extends { close(): Promise<void> } | { stop(): Promise<void> }>(peer: Promise<T>): Promise<T> => {
    const started = await peer;
    stops.push(() => ('stop' in started ? started.stop() : started.close()));
    return started;
  };
  let standin: string;
  let ca: HostCa;
  let sshd: SshdPeer;
  let teleport: TeleportProxy;
  let sshAddress = '';

  beforeAll(async () => {
    standin = buildTshStandin();
    ca = makeCaFor([TELEPORT_NAME, ...(LOOPBACK_NAME ? [LOOPBACK_NAME.name] : [])], 'teleport test CA');
    sshd = await keep(startSshd());
    sshAddress = `${TARGET_NAME}:${sshd.port}`;
    teleport = await keep(startTeleportProxy(ca, { ping: () => ({ cluster_name: 'interop', server_version: '16.0.0', proxy: { tls_routing_enabled: false, ssh: { listen_addr: '0.0.0.0:3023', ssh_public_addr: sshAddress } } }) }));
  }, 240_000);
  afterAll(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  /** burrow tsh [-- dry run first] -- login; returns the run, the dry run's text and the stand-in's environment dump. */
  const tsh = async (env: Record<string, string>, options: { web?: string; caFile?: string } = {}) => {
    const dump = join(makeTempDir('tsh-env'), 'env');
    const web = options.web ?? `${TELEPORT_NAME}:${teleport.port}`;
    const fullEnv = cleanEnv({ SSL_CERT_FILE: options.caFile ?? ca.caFile, XDG_CACHE_HOME: makeTempDir('tsh-cache'), TSH_STANDIN_ENV_DUMP: dump, ...env });
    const result = await run(BURROW, ['tsh', '--tsh', standin, '--', 'login', `--proxy=${web}`], { env: fullEnv, timeoutMs: 60_000 });
    const dry = await run(BURROW, ['tsh', '--tsh', standin, '--dry-run', '--', 'login', `--proxy=${web}`], { env: fullEnv, timeoutMs: 60_000 });
    let seen = '';
    try {
      seen = readFileSync(dump, 'utf8');
    } catch {
      // the stand-in did not run
    }
    return { ...result, dry: dry.stdout, seen };
  };
  const expectBridged = (result: Awaited<ReturnType<typeof tsh>>, secrets: string[], reason: RegExp) => {
    expect(result.stdout).toMatch(/^env HTTPS_PROXY=http:\/\/burrow:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+$/m);
    expect(result.stdout).toMatch(/^banner SSH-2\.0-OpenSSH/m);
    expect(result.code).toBe(0);
    expect(result.seen).toContain('TSH_STANDIN_ENV_DUMP=');
    for (const secret of secrets) {
      expect(result.seen).not.toContain(secret);
      expect(result.stdout).not.toContain(secret);
      expect(result.dry).not.toContain(secret);
    }
    expect(result.dry).toMatch(reason);
  };

  it('the NTLM squid with credentials in the URL: bridged (tsh cannot answer NTLM), banner reached', async () => {
    const squid = await keep(startSquid({ auth: true, authSchemes: ['ntlm'], hosts }));
    const url = `http://CORP%5Calice:${encodeURIComponent(NTLM_PASSWORD)}@127.0.0.1:${squid.port}`;
    const result = await tsh({ HTTPS_PROXY: url });
    expect(result.stderr).toBe('');
    expectBridged(result, forms('CORP\\alice', NTLM_PASSWORD), /route: bridge: http:\/\/127\.0\.0\.1:\d+ from HTTPS_PROXY is a proxy that asked for NTLM when burrow dialed/);
    expect(squid.accessLog()).toContain(sshAddress);
  });

  it('the Digest squid: bridged, banner reached', async () => {
    const squid = await keep(startSquid({ auth: true, authSchemes: ['digest'], hosts }));
    const result = await tsh({ HTTPS_PROXY: withCredentials(squid.url, SQUID_USER, SQUID_PASSWORD) });
    expect(result.stderr).toBe('');
    expectBridged(result, forms(SQUID_USER, SQUID_PASSWORD), /is a proxy that asked for Digest when burrow dialed/);
  });

  it('Basic with the password in ~/.netrc: bridged (tsh reads only the URL), banner reached', async () => {
    const squid = await keep(startSquid({ auth: true, hosts }));
    const home = makeTempDir('tsh-netrc');
    writeFileSync(join(home, '.netrc'), `machine 127.0.0.1 login ${SQUID_USER} password "${SQUID_PASSWORD}"\n`, { mode: 0o600 });
    const result = await tsh({ HTTPS_PROXY: squid.url, HOME: home });
    expect(result.stderr).toBe('');
    expectBridged(result, forms(SQUID_USER, SQUID_PASSWORD), /is credentials that are not in the proxy URL/);
  });

  it('Basic in the URL: passthrough, as before (tsh sends it up front itself); the only case where the password reaches tsh', async () => {
    const squid = await keep(startSquid({ auth: true, hosts }));
    const url = withCredentials(squid.url, SQUID_USER, SQUID_PASSWORD);
    const result = await tsh({ HTTPS_PROXY: url });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`env HTTPS_PROXY=${url}\n`);
    expect(result.stdout).toMatch(/^banner SSH-2\.0-OpenSSH/m);
    expect(result.code).toBe(0);
    expect(result.dry).toMatch(/route: passthrough: .* it accepted Basic, which tsh sends from the URL up front/);
  });

  it.skipIf(!LOOPBACK_NAME)(`dante as a socks5 proxy: bridged by default, banner reached${LOOPBACK_NAME ? '' : ' (skipped: /etc/hosts names no loopback address but localhost)'}`, async () => {
    // socks5:// means local DNS: the cluster's names must resolve here, so they are a loopback name from /etc/hosts.
    const name = LOOPBACK_NAME!.name;
    const dante = await keep(startDante());
    sshAddress = `${name}:${sshd.port}`;
    try {
      const result = await tsh({ HTTPS_PROXY: `socks5://127.0.0.1:${dante.port}` }, { web: `${name}:${teleport.port}` });
      expect(result.stderr).toBe('');
      expectBridged(result, [], /route: bridge: socks5:\/\/127\.0\.0\.1:\d+ from HTTPS_PROXY is a socks5:\/\/ proxy \(bridged by default/);
    } finally {
      sshAddress = `${TARGET_NAME}:${sshd.port}`;
    }
  });

  // The real sshd listens on 127.0.0.1 only: the direct path needs a name for that address.
  const directName = LOOPBACK_NAME?.address === '127.0.0.1' ? LOOPBACK_NAME.name : undefined;
  it.skipIf(!directName)(`the 443-only squid with direct SSH: passthrough with NO_PROXY added, as before${directName ? '' : ' (skipped: /etc/hosts names no other name for 127.0.0.1)'}`, async () => {
    const name = directName!;
    const only = await keep(startSquid({ connectPorts: [teleport.port], hosts }));
    sshAddress = `${name}:${sshd.port}`;
    try {
      const result = await tsh({ HTTPS_PROXY: only.url });
      expect(result.stderr).toContain(`added ${name}:${sshd.port} to tsh's NO_PROXY`);
      expect(result.stdout).toContain(`env NO_PROXY=${name}:${sshd.port}\n`);
      expect(result.stdout).toMatch(/^banner SSH-2\.0-OpenSSH/m);
      expect(result.code).toBe(0);
      expect(result.dry).toMatch(/route: passthrough: .* it asked burrow for no authentication/);
    } finally {
      sshAddress = `${TARGET_NAME}:${sshd.port}`;
    }
  });

  it('a TLS-inspecting proxy in front of a cluster with TLS routing: burrow sets TELEPORT_TLS_ROUTING_CONN_UPGRADE=true, the upgrade carries SSH to sshd', async () => {
    let web = '';
    const routed = await keep(startTeleportProxy(ca, { ping: () => ({ cluster_name: 'routed', server_version: '16.0.0', proxy: { tls_routing_enabled: true, ssh: { public_addr: web } } }), ssh: { host: '127.0.0.1', port: sshd.port } }));
    web = `${TELEPORT_NAME}:${routed.port}`;
    const inspectorCa = makeCaFor([TELEPORT_NAME], 'inspecting proxy test CA');
    const inspector = await keep(startInspectingProxy(inspectorCa, hosts));
    const bundle = join(makeTempDir('tsh-bundle'), 'bundle.pem');
    writeFileSync(bundle, readFileSync(ca.caFile, 'utf8') + readFileSync(inspectorCa.caFile, 'utf8'));
    // The stand-in's own ALPN test misses the inspection, as tsh's does in teleport#66657.
    const result = await tsh({ HTTPS_PROXY: inspector.url, TSH_STANDIN_ALPN_TEST: 'miss' }, { web, caFile: bundle });
    expect(result.stderr).toMatch(/^burrow: TLS routing through http:\/\/127\.0\.0\.1:\d+: .*no application protocol.*; set TELEPORT_TLS_ROUTING_CONN_UPGRADE=true for tsh/m);
    expect(result.stdout).toContain('upgrade true (TELEPORT_TLS_ROUTING_CONN_UPGRADE)\n');
    expect(result.stdout).toMatch(/^banner SSH-2\.0-OpenSSH/m);
    expect(result.code).toBe(0);
    expect(routed.upgradedSshStreams).toBe(1);
    expect(result.dry).toMatch(/route: passthrough: .* it asked burrow for no authentication/);
    expect(result.dry).toContain('TELEPORT_TLS_ROUTING_CONN_UPGRADE=true');
  });

  it('a squid -> dante chain: bridged (tsh takes one proxy), banner reached', async () => {
    const [plainSquid, dante] = await Promise.all([keep(startSquid({ hosts })), keep(startDante({ hosts }))]);
    const result = await tsh({ BURROW_PROXY: `${plainSquid.url},socks5h://127.0.0.1:${dante.port}` });
    expect(result.stderr).toBe('');
    expectBridged(result, [], /is a chain of 2 proxies \(tsh takes one\)/);
    expect(plainSquid.accessLog()).toContain(`127.0.0.1:${dante.port}`);
  });

  it.skipIf(kerberosSkip)(`the Negotiate squid with a ticket from a KDC made for the run: bridged, banner reached${kerberosSkip ? ` (skipped: ${kerberosSkip})` : ''}`, async () => {
    const kdc = await keep(startKdc());
    await kdc.addUser('alice', 'k3rb pass');
    const squid = await keep(startSquid({ auth: true, authSchemes: ['negotiate'], kerberos: kdc, hosts }));
    const ticket = await kdc.kinit('alice');
    const result = await tsh({ HTTPS_PROXY: `http://localhost:${squid.port}`, ...ticket });
    expect(result.stderr).toBe('');
    expectBridged(result, ['k3rb pass'], /is a proxy that asked for Negotiate when burrow dialed/);
  });

  /** OpenSSH with the block `burrow ssh-config --teleport` writes for the cluster at `web`, the stand-in as tsh on PATH. */
  const sshThroughTeleportBlock = async (web: string, extraEnv: Record<string, string>, caFile = ca.caFile) => {
    const dir = makeTempDir('tsh-openssh');
    const block = await run(BURROW, ['ssh-config', '--teleport', 'interop', web], { env: cleanEnv({ HOME: dir }) });
    expect(block.code).toBe(0);
    expect(block.stdout).toContain(`tsh -q -- proxy ssh --cluster=interop --proxy=${web} %r@%h:%p`);
    const file = join(dir, 'ssh_config');
    writeFileSync(file, `${block.stdout}\n`);
    mkdirSync(join(dir, '.tsh'), { recursive: true });
    const dump = join(dir, 'env');
    const env = cleanEnv({
      HOME: dir,
      PATH: `${dirname(standin)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      SSL_CERT_FILE: caFile,
      XDG_CACHE_HOME: makeTempDir('tsh-cache'),
      TSH_STANDIN_ENV_DUMP: dump,
      ...extraEnv,
    });
    const ssh = await run(
      'ssh',
      [
        '-F', file,
        '-i', sshd.keyPath,
        '-o', 'IdentitiesOnly=yes',
        '-o', 'IdentityAgent=none',
        // The block asks for Teleport's host certificates; the test sshd has a plain host key.
        '-o', 'HostKeyAlgorithms=ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256',
        '-o', 'StrictHostKeyChecking=no',
        '-o', 'UserKnownHostsFile=/dev/null',
        '-o', 'BatchMode=yes',
        '-o', 'LogLevel=ERROR',
        '-p', String(sshd.port),
        `${sshd.user}@node.interop`,
        'echo teleport-openssh-ok',
      ],
      { env, timeoutMs: 60_000 },
    );
    expect(ssh.stdout, ssh.stderr).toBe('teleport-openssh-ok\n');
    expect(ssh.code).toBe(0);
    const seen = readFileSync(dump, 'utf8');
    expect(seen).toMatch(/^argv \S*tsh proxy ssh --cluster=interop/m);
    return { ...ssh, seen };
  };

  it('OpenSSH with an ssh-config --teleport block reaches sshd through the stand-in\'s `proxy ssh` via the NTLM squid (bridged)', async () => {
    const squid = await keep(startSquid({ auth: true, authSchemes: ['ntlm'], hosts }));
    const url = `http://CORP%5Calice:${encodeURIComponent(NTLM_PASSWORD)}@127.0.0.1:${squid.port}`;
    const ssh = await sshThroughTeleportBlock(`${TELEPORT_NAME}:${teleport.port}`, { HTTPS_PROXY: url });
    expect(ssh.stderr).toMatch(/env HTTPS_PROXY=http:\/\/burrow:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+/);
    for (const secret of forms('CORP\\alice', NTLM_PASSWORD)) expect(ssh.seen).not.toContain(secret);
  });

  it('OpenSSH with an ssh-config --teleport block through a TLS-inspecting proxy to a cluster with TLS routing: `proxy ssh` upgrades', async () => {
    let web = '';
    const routed = await keep(startTeleportProxy(ca, { ping: () => ({ cluster_name: 'interop', server_version: '16.0.0', proxy: { tls_routing_enabled: true, ssh: { public_addr: web } } }), ssh: { host: '127.0.0.1', port: sshd.port } }));
    web = `${TELEPORT_NAME}:${routed.port}`;
    const inspectorCa = makeCaFor([TELEPORT_NAME], 'inspecting proxy test CA');
    const inspector = await keep(startInspectingProxy(inspectorCa, hosts));
    const bundle = join(makeTempDir('tsh-bundle'), 'bundle.pem');
    writeFileSync(bundle, readFileSync(ca.caFile, 'utf8') + readFileSync(inspectorCa.caFile, 'utf8'));
    const ssh = await sshThroughTeleportBlock(web, { HTTPS_PROXY: inspector.url, TSH_STANDIN_ALPN_TEST: 'miss' }, bundle);
    expect(ssh.stderr).toContain('upgrade true (TELEPORT_TLS_ROUTING_CONN_UPGRADE)');
    expect(routed.upgradedSshStreams).toBe(1);
  });
});
