// burrow tsh with a stand-in for tsh built from Go's own proxy code (test/fixtures/tsh-standin): /webapi/ping over
// TLS through net/http's ProxyFromEnvironment, then the SSH address from the answer through the same environment
// proxy. Three routes: a proxy with Basic auth (exported to tsh as is), an HTTP -> SOCKS chain (through the bridge),
// and a proxy that allows only the web port while direct SSH works (NO_PROXY=host:port added).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBannerServer, startSocks5Server } from '../helpers/node-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';
import { buildTshStandin, HAVE_GO, loopbackNameFromHosts, makeCaFor, startBannerOn, startPolicyProxy, TELEPORT_NAME, type HostCa } from '../helpers/wrap-peers.ts';
import { startTeleportProxy } from '../helpers/teleport-proxy.ts';

const track = trackPeers();
const SECRET = 'tsh:s3cret pw';
const ENCODED = encodeURIComponent(SECRET);
const LOOPBACK_NAME = loopbackNameFromHosts();

function pingAnswer(sshAddress: string) {
  return () => ({ cluster_name: 'burrow-test', server_version: '16.0.0', min_client_version: '15.0.0', proxy: { tls_routing_enabled: false, ssh: { listen_addr: '0.0.0.0:3023', ssh_public_addr: sshAddress } } });
}

describe.skipIf(!HAVE_GO)(`burrow tsh with the Go tsh stand-in${HAVE_GO ? '' : ' (skipped: go is not installed; apt-get install golang-go)'}`, () => {
  let standin: string;
  let ca: HostCa;
  beforeAll(() => {
    standin = buildTshStandin();
    ca = makeCaFor([TELEPORT_NAME]);
  }, 240_000);
  const envFor = (extra: Record<string, string>) => cleanEnv({ SSL_CERT_FILE: ca.caFile, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'burrow-cache-')), HOME: mkdtempSync(join(tmpdir(), 'burrow-home-')), ...extra });

  it('a proxy with Basic auth: tsh gets HTTPS_PROXY with the upstream URL (it authenticates itself) and reaches the banner', async () => {
    const ssh = await track(startBannerServer('SSH-2.0-standin-target\r\n'));
    const ping = await track(startTeleportProxy(ca, { ping: pingAnswer(`${TELEPORT_NAME}:${ssh.port}`) }));
    const proxy = await track(startPolicyProxy({ auth: { user: 'alice', password: SECRET }, hosts: { [TELEPORT_NAME]: '127.0.0.1' } }));
    const upstream = `http://alice:${ENCODED}@127.0.0.1:${proxy.port}`;
    const env = envFor({ HTTPS_PROXY: upstream, NO_PROXY: '*.intranet.example' });
    const result = await runBurrow(['tsh', '--tsh', standin, '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], { env, input: '' });
    expect(result.stderr).toBe('');
    const out = result.stdout.toString();
    expect(out).toContain(`env HTTPS_PROXY=http://alice:${ENCODED}@127.0.0.1:${proxy.port}\n`);
    expect(out).toContain(`env https_proxy=http://alice:${ENCODED}@127.0.0.1:${proxy.port}\n`);
    expect(out).toContain(`env HTTP_PROXY=http://alice:${ENCODED}@127.0.0.1:${proxy.port}\n`);
    expect(out).toContain('env NO_PROXY=.intranet.example\n');
    expect(out).toContain(`ssh ${TELEPORT_NAME}:${ssh.port} via http://127.0.0.1:${proxy.port}\n`);
    expect(out).toContain('banner SSH-2.0-standin-target\n');
    expect(result.code).toBe(0);
    // burrow's own check and the stand-in both went through the proxy; the second run uses the cached check.
    expect(ping.pings).toBe(2);
    const again = await runBurrow(['tsh', '--tsh', standin, '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], { env, input: '' });
    expect(again.code).toBe(0);
    expect(ping.pings).toBe(3);

    // --dry-run: what would run, with the credentials masked, and why; its last line ends with a newline.
    const dry = await runBurrow(['tsh', '--tsh', standin, '--dry-run', '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], { env, input: '' });
    expect(dry.code).toBe(0);
    const text = dry.stdout.toString();
    expect(text).toContain(`HTTPS_PROXY=http://***@127.0.0.1:${proxy.port}`);
    expect(text).toContain(`route: passthrough: http://127.0.0.1:${proxy.port} from HTTPS_PROXY: tsh uses it itself; it accepted Basic, which tsh sends from the URL up front`);
    expect(text).toMatch(/ssh-port check \(cached\): ok, ssh address [^\n]*, the proxy asked for basic\n/);
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(ENCODED);
    // Without a check (and nothing remembered for this address), burrow has not seen the proxy accept tsh's way: the bridge.
    const unchecked = await runBurrow(['tsh', '--tsh', standin, '--dry-run', '--no-probe', '--', 'login', `--proxy=${TELEPORT_NAME}`], { env, input: '' });
    expect(unchecked.stdout.toString()).toContain(`argv: ${standin} login --proxy=${TELEPORT_NAME}:443\n`);
    expect(unchecked.stdout.toString()).toContain(`route: bridge: http://127.0.0.1:${proxy.port} from HTTPS_PROXY is a proxy burrow has not seen accept a request the way tsh makes it (--no-probe, and nothing remembered): tsh goes through burrow's bridge\n`);
  });

  it('the remembered check belongs to the proxy user: another user (or a wrong password) through the same proxy is checked afresh, and the state file names neither', async () => {
    const ssh = await track(startBannerServer('SSH-2.0-standin-users\r\n'));
    const ping = await track(startTeleportProxy(ca, { ping: pingAnswer(`${TELEPORT_NAME}:${ssh.port}`) }));
    const proxy = await track(startPolicyProxy({ auth: { user: 'alice', password: SECRET }, hosts: { [TELEPORT_NAME]: '127.0.0.1' } }));
    const cache = mkdtempSync(join(tmpdir(), 'burrow-cache-'));
    const dryRun = (userinfo: string) =>
      runBurrow(['tsh', '--tsh', standin, '--dry-run', '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], { env: envFor({ HTTPS_PROXY: `http://${userinfo}@127.0.0.1:${proxy.port}`, XDG_CACHE_HOME: cache }), input: '' });
    const alice = await dryRun(`alice:${ENCODED}`);
    expect(alice.stdout.toString()).toContain('route: passthrough: ');
    expect(ping.pings).toBe(1);
    // Another user through the same proxy: not alice's answer (it would hand tsh bob's URL as if the proxy took it).
    const bob = await dryRun('bob:guess');
    expect(bob.stdout.toString()).not.toContain('(cached)');
    expect(bob.stdout.toString()).toContain('route: bridge: ');
    expect(proxy.log.filter((line) => line.includes('407')).length).toBeGreaterThan(0);
    // A wrong password for alice: checked afresh too.
    const wrong = await dryRun('alice:wrong');
    expect(wrong.stdout.toString()).not.toContain('(cached)');
    expect(wrong.stdout.toString()).toContain('route: bridge: ');
    // alice again: her own remembered answer.
    const again = await dryRun(`alice:${ENCODED}`);
    expect(again.stdout.toString()).toContain('ssh-port check (cached): ok');
    expect(again.stdout.toString()).toContain('route: passthrough: ');
    expect(ping.pings).toBe(1);
    const state = readFileSync(join(cache, 'burrow', 'tsh-probe.json'), 'utf8');
    for (const secret of ['alice', 'bob', 'guess', 'wrong', SECRET, ENCODED]) expect(state).not.toContain(secret);
  });

  it('an HTTP -> SOCKS chain: tsh goes through the bridge and never sees the upstream credentials', async () => {
    const ssh = await track(startBannerServer('SSH-2.0-standin-chain\r\n'));
    const ping = await track(startTeleportProxy(ca, { ping: pingAnswer(`${TELEPORT_NAME}:${ssh.port}`) }));
    const socks = await track(startSocks5Server({ user: 'sam', password: SECRET }, { [TELEPORT_NAME]: '127.0.0.1' }));
    const http = await track(startPolicyProxy({ auth: { user: 'alice', password: SECRET } }));
    const env = envFor({ BURROW_PROXY: `http://alice:${ENCODED}@127.0.0.1:${http.port},socks5h://sam:${ENCODED}@127.0.0.1:${socks.port}` });
    const result = await runBurrow(['tsh', '--tsh', standin, '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], { env, input: '' });
    expect(result.stderr).toBe('');
    const out = result.stdout.toString();
    expect(out).toMatch(/^env HTTPS_PROXY=http:\/\/burrow:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/^env NO_PROXY=localhost,127\.0\.0\.1,::1,127\.0\.0\.0\/8$/m);
    expect(out).toContain('banner SSH-2.0-standin-chain\n');
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(ENCODED);
    expect(result.code).toBe(0);
    expect(socks.requests).toContain(`domain ${TELEPORT_NAME}`);
    expect(http.log.every((line) => line.startsWith(`CONNECT 127.0.0.1:${socks.port}`))).toBe(true);
  });

  it.skipIf(!LOOPBACK_NAME)(
    `a proxy that allows only the web port while direct SSH works: NO_PROXY=host:port is added and said${LOOPBACK_NAME ? '' : ' (skipped: /etc/hosts names no loopback address but localhost)'}`,
    async () => {
      const { name, address } = LOOPBACK_NAME!;
      const ssh = await track(startBannerOn(address, 'SSH-2.0-standin-direct\r\n'));
      const ping = await track(startTeleportProxy(ca, { ping: pingAnswer(`${name}:${ssh.port}`) }));
      const proxy = await track(startPolicyProxy({ allowPorts: [ping.port], hosts: { [TELEPORT_NAME]: '127.0.0.1' } }));
      const env = envFor({ HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` });
      const result = await runBurrow(['tsh', '--tsh', standin, '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], { env, input: '' });
      expect(result.stderr).toContain(`added ${name}:${ssh.port} to tsh's NO_PROXY`);
      expect(result.stderr).toContain('403 Forbidden');
      const out = result.stdout.toString();
      expect(out).toContain(`env NO_PROXY=${name}:${ssh.port}\n`);
      expect(out).toContain(`ssh ${name}:${ssh.port} via direct\n`);
      expect(out).toContain('banner SSH-2.0-standin-direct\n');
      expect(result.code).toBe(0);
      expect(proxy.log).toContain(`CONNECT ${name}:${ssh.port} -> 403 Forbidden`);

      // Without the check, tsh meets the proxy's 403 (which is what the check is for).
      const unchecked = await runBurrow(['tsh', '--tsh', standin, '--no-probe', '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], { env: { ...env, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'burrow-cache-')) }, input: '' });
      expect(unchecked.code).toBe(1);
      expect(unchecked.stderr).toContain('403 Forbidden');
    },
  );

  it('neither the proxy nor a direct connection reaches the SSH port: one paragraph with the choices', async () => {
    const ping = await track(startTeleportProxy(ca, { ping: pingAnswer(`${TELEPORT_NAME}:1`) }));
    const proxy = await track(startPolicyProxy({ allowPorts: [ping.port], hosts: { [TELEPORT_NAME]: '127.0.0.1' } }));
    const env = envFor({ HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` });
    const result = await runBurrow(['tsh', '--tsh', standin, '--connect-timeout', '5', '--', 'login', `--proxy=${TELEPORT_NAME}:${ping.port}`], { env, input: '' });
    expect(result.stderr).toMatch(/warning: tsh will probably fail to reach the cluster's SSH port teleport\.burrow\.test:1: .*TLS routing/);
    expect(result.code).toBe(1); // the stand-in's own failure, passed through
  });

  it('a missing tsh exits 127 and says so', async () => {
    const result = await runBurrow(['tsh', '--tsh', '/nonexistent/tsh', '--no-probe', '--', 'version'], { input: '' });
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('/nonexistent/tsh: command not found');
  });
});
