// burrow exec end to end: the real OpenSSH client, curl and git through the in-process bridge, with Node proxies
// and ssh2's Server as peers; plus stdio, signals, exit codes and the no-upstream-credential rule.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { HAVE_SSH } from '../helpers/openssh-client.ts';
import { generateHostKey, startConnectProxy, startHttpServer, startSocks5Server, startSshServer, type Peer } from '../helpers/node-peers.ts';
import { BURROW, cleanEnv, runBurrow } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';

const track = trackPeers();
const have = (program: string) => spawnSync(program, ['--version']).status === 0;
const HAVE_CURL = have('curl');
const HAVE_GIT = have('git');
const SECRET = 'up-str3am:secret';
const SSH_OPTIONS = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=15'];

function authProxy(hosts: Record<string, string>) {
  return startConnectProxy({ auth: { user: 'alice', password: SECRET }, hosts });
}
const proxyUrl = (proxy: Peer) => `http://alice:${encodeURIComponent(SECRET)}@127.0.0.1:${proxy.port}`;

describe.skipIf(!HAVE_SSH)('burrow exec -- ssh (OpenSSH client, ssh2 Server, Node CONNECT proxy with Basic auth)', () => {
  it('adds the ProxyCommand and reaches a host only the proxy knows', async () => {
    const server = await track(startSshServer());
    const proxy = await track(authProxy({ 'ssh.burrow.test': '127.0.0.1' }));
    const result = await runBurrow(['exec', '--', 'ssh', ...SSH_OPTIONS, '-p', String(server.port), 'tester@ssh.burrow.test', 'echo hello'], {
      env: cleanEnv({ HTTPS_PROXY: proxyUrl(proxy) }),
      input: '',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout.toString()).toBe('ran: echo hello\n');
    expect(result.code).toBe(0);
    // The first CONNECT goes without credentials (the proxy's 407 decides the scheme); Basic answers the 407.
    expect(proxy.requests.map((r) => `${r.requestLine} ${(r.headers['proxy-authorization'] ?? 'none').split(' ')[0]}`)).toEqual([
      `CONNECT ssh.burrow.test:${server.port} HTTP/1.1 none`,
      `CONNECT ssh.burrow.test:${server.port} HTTP/1.1 Basic`,
    ]);
  });

  it('keeps an explicit ProxyCommand', async () => {
    const server = await track(startSshServer());
    const result = await runBurrow(['exec', '--', 'ssh', ...SSH_OPTIONS, '-o', `ProxyCommand=${BURROW} connect --direct %h %p`, '-p', String(server.port), 'tester@127.0.0.1', 'x'], { input: '' });
    expect(result.stdout.toString()).toBe('ran: x\n');
  });
});

describe.skipIf(!HAVE_CURL)('burrow exec -- curl (the proxy variables point at the bridge)', () => {
  it('plain http:// and CONNECT (-p) through a SOCKS5 proxy with a password', async () => {
    const origin = await track(startHttpServer());
    const socks = await track(startSocks5Server({ user: 'sam', password: SECRET }, { 'web.burrow.test': '127.0.0.1' }));
    const env = cleanEnv({ ALL_PROXY: `socks5h://sam:${encodeURIComponent(SECRET)}@127.0.0.1:${socks.port}` });
    const url = `http://web.burrow.test:${origin.port}/hello`;
    const plain = await runBurrow(['exec', '--', 'curl', '-sS', '--max-time', '15', url], { env, input: '' });
    expect(plain.stdout.toString()).toBe('hello /hello');
    expect(plain.code).toBe(0);
    const tunnel = await runBurrow(['exec', '--', 'curl', '-sS', '-p', '--max-time', '15', url], { env, input: '' });
    expect(tunnel.stdout.toString()).toBe('hello /hello');
    expect(socks.requests).toEqual(['domain web.burrow.test', 'domain web.burrow.test']);
    // The origin never saw a proxy credential.
    expect(JSON.stringify(origin.requests)).not.toContain(SECRET);
  });
});

/** An ssh2 server that runs exec requests with sh (for git-upload-pack), accepting any client. */
async function startShellSshServer(): Promise<Peer> {
  const hostKey = generateHostKey().private;
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => ctx.accept());
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const channel = acceptExec();
        const child = spawn('sh', ['-c', info.command], { stdio: ['pipe', 'pipe', 'pipe'] });
        channel.pipe(child.stdin);
        child.stdout.pipe(channel, { end: false });
        child.stderr.pipe(channel.stderr);
        child.on('close', (code) => {
          channel.exit(code ?? 1);
          channel.end();
        });
        child.stdin.on('error', () => {});
      });
    });
  }) as unknown as Server;
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    url: `ssh://127.0.0.1:${port}`,
    connections: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!HAVE_SSH || !HAVE_GIT)('burrow exec -- git ls-remote ssh://', () => {
  it('GIT_SSH_COMMAND carries the ProxyCommand, appended to the user\'s own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'burrow-git-'));
    const gitEnv = { ...cleanEnv(), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x', GIT_CONFIG_NOSYSTEM: '1', HOME: dir };
    const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, env: gitEnv, encoding: 'utf8' });
    expect(git('init', '-q', '--bare', 'repo.git').status).toBe(0);
    expect(git('clone', '-q', 'repo.git', 'work').status).toBe(0);
    writeFileSync(join(dir, 'work', 'f'), 'x');
    spawnSync('git', ['add', 'f'], { cwd: join(dir, 'work'), env: gitEnv });
    expect(spawnSync('git', ['commit', '-qm', 'one'], { cwd: join(dir, 'work'), env: gitEnv }).status).toBe(0);
    expect(spawnSync('git', ['push', '-q', 'origin', 'HEAD:main'], { cwd: join(dir, 'work'), env: gitEnv }).status).toBe(0);
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: join(dir, 'work'), env: gitEnv, encoding: 'utf8' }).stdout.trim();

    const server = await track(startShellSshServer());
    const proxy = await track(authProxy({ 'git.burrow.test': '127.0.0.1' }));
    const result = await runBurrow(['exec', '--', 'git', 'ls-remote', `ssh://tester@git.burrow.test:${server.port}${join(dir, 'repo.git')}`], {
      env: { ...gitEnv, HTTPS_PROXY: proxyUrl(proxy), GIT_SSH_COMMAND: SSH_OPTIONS.map((w) => (w.includes(' ') ? `'${w}'` : w)).join(' ').replace(/^/, 'ssh ') },
      input: '',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout.toString()).toContain(`${head}\trefs/heads/main`);
    // The first CONNECT goes without credentials (the proxy's 407 decides the scheme); Basic answers the 407.
    expect(proxy.requests.map((r) => `${r.requestLine} ${(r.headers['proxy-authorization'] ?? 'none').split(' ')[0]}`)).toEqual([
      `CONNECT git.burrow.test:${server.port} HTTP/1.1 none`,
      `CONNECT git.burrow.test:${server.port} HTTP/1.1 Basic`,
    ]);
  });
});

describe('burrow exec: environment, argv, stdio, signals and exit codes', () => {
  it('no upstream credential in the child\'s environment or argv; the bridge credential only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'burrow-fake-ssh-'));
    // A fake "ssh" that prints its argv and environment.
    writeFileSync(join(dir, 'ssh'), '#!/bin/sh\nprintf "%s\\n" "$0" "$@"\nenv\n');
    chmodSync(join(dir, 'ssh'), 0o755);
    const encoded = encodeURIComponent(SECRET);
    const env = cleanEnv({
      HTTPS_PROXY: `http://alice:${encoded}@proxy.corp.example:3128`,
      https_proxy: `http://alice:${encoded}@proxy.corp.example:3128`,
      npm_config_https_proxy: `http://alice:${encoded}@proxy.corp.example:3128`,
      BURROW_PROXY_USER: 'alice',
      BURROW_PROXY_PASSWORD: 'second-secret',
      PATH: `${dir}:${process.env.PATH}`,
    });
    const result = await runBurrow(['exec', '--proxy', `http://bob:third-secret@proxy2.example:8080`, '--', 'ssh', '-p', '22', 'host.example', 'ls'], { env, input: '' });
    expect(result.code).toBe(0);
    const out = result.stdout.toString();
    for (const secret of [SECRET, encoded, 'second-secret', 'third-secret', 'proxy.corp.example', 'proxy2.example']) expect(out).not.toContain(secret);
    expect(out).toMatch(/^-o\nProxyCommand=\/.*bin\/burrow connect %h %p\n-p\n22\nhost\.example\nls\n/m);
    const bridge = /^HTTPS_PROXY=(http:\/\/burrow:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+)$/m.exec(out)?.[1];
    expect(bridge).toBeDefined();
    for (const name of ['https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'BURROW_PROXY']) expect(out).toContain(`\n${name}=${bridge}\n`);
    expect(out).toContain('\nNO_PROXY=localhost,127.0.0.1,::1,127.0.0.0/8\n');
    expect(out).not.toMatch(/^BURROW_PROXY_(USER|PASSWORD)=/m);
    expect(out).not.toMatch(/^npm_config_https_proxy=/m);
    expect(result.stderr).toBe('');
  });

  it('stdio is inherited and the stdout pipe stays blocking; the bridge closes when the child exits', async () => {
    const result = await runBurrow(['exec', '--', 'sh', '-c', 'grep ^flags /proc/self/fdinfo/1; grep ^flags /proc/self/fdinfo/0; echo "$HTTPS_PROXY"; cat'], { input: 'from stdin\n' });
    expect(result.code).toBe(0);
    const [stdoutFlags, stdinFlags, bridge, echoed] = result.stdout.toString().split('\n');
    for (const line of [stdoutFlags, stdinFlags]) expect(Number.parseInt(line!.split(/\s+/)[1]!, 8) & 0o4000).toBe(0); // O_NONBLOCK
    expect(echoed).toBe('from stdin');
    const port = Number(/:(\d+)$/.exec(bridge!)?.[1]);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it.each([
    [['sh', '-c', 'exit 7'], 7],
    [['sh', '-c', 'kill -TERM $$'], 143],
    [['sh', '-c', 'kill -HUP $$'], 129],
    [['/nonexistent/program'], 127],
  ])('%j exits %i', async (command, code) => {
    const result = await runBurrow(['exec', '--', ...command], { input: '' });
    expect(result.code).toBe(code);
  });

  it('forwards SIGTERM (and SIGINT) to the child and returns its code', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const result = await runBurrow(['exec', '--', 'sh', '-c', `trap 'echo got ${signal}; exit 3' ${signal.slice(3)}; echo ready; while :; do sleep 0.05; done`], {
        onSpawn: (child) => {
          child.stdout!.once('data', () => child.kill(signal));
        },
      });
      expect(result.stdout.toString()).toBe(`ready\ngot ${signal}\n`);
      expect(result.code).toBe(3);
    }
  });

  it('a bad proxy URL is a usage error (2) before anything runs; no command is one too', async () => {
    const bad = await runBurrow(['exec', '--proxy', 'ftp://x', '--', 'sh', '-c', 'echo ran'], { input: '' });
    expect(bad.code).toBe(2);
    expect(bad.stdout.toString()).toBe('');
    expect((await runBurrow(['exec'], { input: '' })).code).toBe(2);
  });
});
