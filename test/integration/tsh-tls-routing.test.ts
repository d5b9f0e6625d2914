// TLS routing through proxies, with the Go tsh stand-in (test/fixtures/tsh-standin: tsh is not installable here)
// against a Teleport-like proxy (test/helpers/teleport-proxy.ts: ALPN teleport-proxy-ssh and the WebSocket connection
// upgrade on one port) and a TLS-inspecting CONNECT proxy (test/helpers/inspecting-proxy.ts: its own CA, no ALPN).
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBannerServer } from '../helpers/node-peers.ts';
import { startInspectingProxy } from '../helpers/inspecting-proxy.ts';
import { cleanEnv, runBurrow, runProgram } from '../helpers/run-burrow.ts';
import { startTeleportProxy } from '../helpers/teleport-proxy.ts';
import { trackPeers } from '../helpers/track-peers.ts';
import { buildTshStandin, HAVE_GO, makeCaFor, startPolicyProxy, TELEPORT_NAME, type HostCa } from '../helpers/wrap-peers.ts';

const track = trackPeers();
const tlsRoutingPing = (web: () => string) => () => ({ cluster_name: 'burrow-test', server_version: '16.0.0', proxy: { tls_routing_enabled: true, ssh: { listen_addr: '0.0.0.0:3023', public_addr: web() } } });

describe.skipIf(!HAVE_GO)(`the tsh stand-in with TLS routing${HAVE_GO ? '' : ' (skipped: go is not installed; apt-get install golang-go)'}`, () => {
  let standin: string;
  let teleportCa: HostCa;
  let inspectorCa: HostCa;
  let bundle: string;
  beforeAll(() => {
    standin = buildTshStandin();
    teleportCa = makeCaFor([TELEPORT_NAME], 'teleport test CA');
    inspectorCa = makeCaFor([TELEPORT_NAME], 'inspecting proxy test CA');
    // The inspector's CA is trusted on the machine, as corporate inspection CAs are.
    bundle = join(mkdtempSync(join(tmpdir(), 'burrow-ca-bundle-')), 'bundle.pem');
    writeFileSync(bundle, readFileSync(teleportCa.caFile, 'utf8') + readFileSync(inspectorCa.caFile, 'utf8'));
  }, 240_000);
  const standinRun = async (args: string[], env: Record<string, string>) => {
    const result = await runProgram(standin, args, { env: cleanEnv({ SSL_CERT_FILE: bundle, HOME: mkdtempSync(join(tmpdir(), 'burrow-home-')), ...env }), input: '' });
    return { code: result.code, stdout: result.stdout.toString(), stderr: result.stderr };
  };

  it('through a plain CONNECT proxy: ALPN teleport-proxy-ssh reaches the SSH service on the web port, no upgrade', async () => {
    const ssh = await track(startBannerServer('SSH-2.0-tls-routed\r\n'));
    let web = '';
    const teleport = await track(startTeleportProxy(teleportCa, { ping: tlsRoutingPing(() => web), ssh }));
    web = `${TELEPORT_NAME}:${teleport.port}`;
    const proxy = await track(startPolicyProxy({ hosts: { [TELEPORT_NAME]: '127.0.0.1' } }));
    const result = await standinRun(['login', `--proxy=${web}`], { HTTPS_PROXY: proxy.url });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('ping cluster=burrow-test tls_routing=true\n');
    expect(result.stdout).toContain('upgrade false (ALPN test: teleport-reversetunnel)\n');
    expect(result.stdout).toContain('banner SSH-2.0-tls-routed\n');
    expect(result.code).toBe(0);
    expect(teleport.sshStreams).toBe(1);
    expect(teleport.upgrades).toBe(0);
  });

  it('through a TLS-inspecting proxy: ALPN is stripped; the upgrade works, and a missed ALPN test fails as tsh does', async () => {
    const ssh = await track(startBannerServer('SSH-2.0-upgraded\r\n'));
    let web = '';
    const teleport = await track(startTeleportProxy(teleportCa, { ping: tlsRoutingPing(() => web), ssh }));
    web = `${TELEPORT_NAME}:${teleport.port}`;
    const inspector = await track(startInspectingProxy(inspectorCa, { [TELEPORT_NAME]: '127.0.0.1' }));
    const detected = await standinRun(['ssh', `--proxy=${web}`, 'node'], { HTTPS_PROXY: inspector.url });
    expect(detected.stdout, detected.stderr).toMatch(/^upgrade true \(ALPN test: no (application )?protocol( agreed)?\)$/m);
    expect(detected.stdout).toContain('banner SSH-2.0-upgraded\n');
    expect(detected.code).toBe(0);
    expect(teleport.upgradedSshStreams).toBe(1);
    expect(inspector.intercepted.some((i) => i.offered.includes('teleport-reversetunnel'))).toBe(true);

    const missed = await standinRun(['ssh', `--proxy=${web}`, 'node'], { HTTPS_PROXY: inspector.url, TSH_STANDIN_ALPN_TEST: 'miss' });
    expect(missed.stderr).toContain(`TLS routing handshake with teleport.burrow.test:${teleport.port}: remote error: tls: no application protocol`);
    expect(missed.code).toBe(1);

    const forced = await standinRun(['ssh', `--proxy=${web}`, 'node'], { HTTPS_PROXY: inspector.url, TSH_STANDIN_ALPN_TEST: 'miss', TELEPORT_TLS_ROUTING_CONN_UPGRADE: 'true' });
    expect(forced.stdout).toContain('upgrade true (TELEPORT_TLS_ROUTING_CONN_UPGRADE)\n');
    expect(forced.stdout).toContain('banner SSH-2.0-upgraded\n');
    expect(forced.code).toBe(0);
    expect(teleport.upgradedSshStreams).toBe(2);
  });

  const burrowTsh = (args: string[], env: Record<string, string>) =>
    runBurrow(['tsh', '--tsh', standin, ...args], {
      env: cleanEnv({ SSL_CERT_FILE: bundle, HOME: mkdtempSync(join(tmpdir(), 'burrow-home-')), XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'burrow-cache-')), ...env }),
      input: '',
    });

  it('burrow tsh through a TLS-inspecting proxy: the check sees ALPN refused, tsh gets TELEPORT_TLS_ROUTING_CONN_UPGRADE=true and upgrades', async () => {
    const ssh = await track(startBannerServer('SSH-2.0-via-burrow-upgrade\r\n'));
    let web = '';
    const teleport = await track(startTeleportProxy(teleportCa, { ping: tlsRoutingPing(() => web), ssh }));
    web = `${TELEPORT_NAME}:${teleport.port}`;
    const inspector = await track(startInspectingProxy(inspectorCa, { [TELEPORT_NAME]: '127.0.0.1' }));
    // TSH_STANDIN_ALPN_TEST=miss: the stand-in's own test misses the inspection, as tsh's does in teleport#66657.
    const env = { HTTPS_PROXY: inspector.url, TSH_STANDIN_ALPN_TEST: 'miss' };
    const result = await burrowTsh(['--', 'ssh', `--proxy=${web}`, 'node'], env);
    expect(result.stderr).toMatch(/^burrow: TLS routing through http:\/\/127\.0\.0\.1:\d+: the TLS handshake with teleport\.burrow\.test:\d+ offering ALPN teleport-proxy-ssh was refused \("no application protocol"\); set TELEPORT_TLS_ROUTING_CONN_UPGRADE=true for tsh \(its connection upgrade\)$/m);
    const out = result.stdout.toString();
    expect(out).toContain('env TELEPORT_TLS_ROUTING_CONN_UPGRADE=true\n');
    expect(out).toContain('upgrade true (TELEPORT_TLS_ROUTING_CONN_UPGRADE)\n');
    expect(out).toContain('banner SSH-2.0-via-burrow-upgrade\n');
    expect(result.code).toBe(0);
    expect(teleport.upgradedSshStreams).toBe(1);

    const dry = await burrowTsh(['--dry-run', '--', 'ssh', `--proxy=${web}`, 'node'], env);
    expect(dry.stdout.toString()).toContain('tls-routing check: connection upgrade needed: the TLS handshake');
    expect(dry.stdout.toString()).toContain('  TELEPORT_TLS_ROUTING_CONN_UPGRADE=true\n');
    // The user's own setting wins.
    const own = await burrowTsh(['--', 'ssh', `--proxy=${web}`, 'node'], { ...env, TELEPORT_TLS_ROUTING_CONN_UPGRADE: 'false' });
    expect(own.stdout.toString()).toContain('upgrade false (TELEPORT_TLS_ROUTING_CONN_UPGRADE)\n');
    expect(own.stderr).not.toContain('set TELEPORT_TLS_ROUTING_CONN_UPGRADE');
    expect(own.code).toBe(1);
  });

  it('burrow tsh through a plain CONNECT proxy with TLS routing: ALPN survives, no variable set', async () => {
    const ssh = await track(startBannerServer('SSH-2.0-via-burrow-alpn\r\n'));
    let web = '';
    const teleport = await track(startTeleportProxy(teleportCa, { ping: tlsRoutingPing(() => web), ssh }));
    web = `${TELEPORT_NAME}:${teleport.port}`;
    const proxy = await track(startPolicyProxy({ hosts: { [TELEPORT_NAME]: '127.0.0.1' } }));
    const result = await burrowTsh(['--', 'login', `--proxy=${web}`], { HTTPS_PROXY: proxy.url, TSH_STANDIN_ALPN_TEST: 'miss' });
    expect(result.stderr).toBe('');
    const out = result.stdout.toString();
    expect(out).not.toContain('TELEPORT_TLS_ROUTING_CONN_UPGRADE');
    expect(out).toContain('banner SSH-2.0-via-burrow-alpn\n');
    expect(result.code).toBe(0);
    expect(out).toContain('upgrade false (ALPN test missed)\n');
    expect(teleport.upgrades).toBe(0);
  });
});
