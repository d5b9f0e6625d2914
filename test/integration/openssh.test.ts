import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startConnectProxy, startSocks5Server, startSshServer } from '../helpers/node-peers.ts';
import { HAVE_SSH, runSsh } from '../helpers/openssh-client.ts';
import { BURROW, cleanEnv } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();

// The real OpenSSH client drives burrow as its ProxyCommand, against ssh2's Server: the way users run it.
describe.skipIf(!HAVE_SSH)('OpenSSH client with ProxyCommand burrow connect', () => {
  it('runs a remote command through an HTTP CONNECT proxy that sends the banner with its 200', async () => {
    const proxy = await track(startConnectProxy({ coalesce: true, statusLine: 'HTTP/1.1 200' }));
    const sshd = await track(startSshServer());
    const result = await runSsh({ host: '127.0.0.1', port: sshd.port, proxyCommand: `${BURROW} connect -x ${proxy.url} %h %p`, command: 'hostname', env: cleanEnv() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('ran: hostname\n');
    expect(proxy.requests).toHaveLength(1);
  });

  it('pushes 8 MB through ssh over an HTTP proxy then a SOCKS5 proxy, checksums equal', async () => {
    const http = await track(startConnectProxy());
    const socks = await track(startSocks5Server(undefined, { 'sshd.burrow.test': '127.0.0.1' }));
    const sshd = await track(startSshServer());
    const payload = randomBytes(8 * 1024 * 1024);
    const env = cleanEnv({ BURROW_PROXY: `${http.url},socks5h://127.0.0.1:${socks.port}` });
    const result = await runSsh({ host: 'sshd.burrow.test', port: sshd.port, proxyCommand: `${BURROW} connect %h %p`, command: 'sha256sum', input: payload, env });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${createHash('sha256').update(payload).digest('hex')}  -\n`);
    expect(socks.requests).toEqual(['domain sshd.burrow.test']);
  });

  it('shows ssh users why the proxy refused instead of a bare kex_exchange_identification', async () => {
    const proxy = await track(startConnectProxy({ only443: true }));
    const result = await runSsh({ host: 'jump.example.org', port: 22, proxyCommand: `${BURROW} connect -x ${proxy.url} %h %p`, command: 'true', env: cleanEnv() });
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('refused CONNECT jump.example.org:22');
    expect(result.stderr).toContain('NO_PROXY=jump.example.org:22');
  });
});
