// `npm run demo`: burrow doing its main job on this machine, with nothing but loopback. A local HTTP CONNECT proxy
// with a password stands in for the corporate proxy, ssh2's Server for the SSH host behind it, and the system's
// OpenSSH client runs a command with `ProxyCommand burrow connect %h %p`, as ~/.ssh/config would have it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startConnectProxy, startEchoServer, startSshServer } from '../test/helpers/node-peers.ts';

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

// Asynchronous on purpose: the proxy and the SSH server live in this process and must keep answering.
function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env });
    const result: Ran = { status: null, stdout: '', stderr: '' };
    child.stdout.on('data', (c: Buffer) => (result.stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (result.stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ...result, error });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ ...result, status });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

const burrow = fileURLToPath(new URL('../bin/burrow', import.meta.url));
const say = (text = '') => process.stdout.write(`${text}\n`);
const show = (label: string, text: string) => text.trimEnd() && say(text.trimEnd().split('\n').map((l) => `  ${label} ${l}`).join('\n'));
const HOST = 'jump.demo.test';

const proxy = await startConnectProxy({
  auth: { user: 'demo', password: 'p@ss word' },
  hosts: { [HOST]: '127.0.0.1' },
  onRequest: (line, headers) => say(`  [proxy] ${line}${headers['proxy-authorization'] ? '  (Proxy-Authorization: Basic ***)' : '  (no credentials)'}`),
});
const strictProxy = await startConnectProxy({ only443: true, hosts: { [HOST]: '127.0.0.1' } });
const sshd = await startSshServer();
const env: NodeJS.ProcessEnv = { ...process.env, HTTPS_PROXY: `http://demo:p%40ss%20word@127.0.0.1:${proxy.port}`, NO_PROXY: 'localhost,.internal' };
for (const name of ['https_proxy', 'ALL_PROXY', 'all_proxy', 'BURROW_PROXY', 'no_proxy']) delete env[name];

say('burrow demo — everything below runs on 127.0.0.1');
say(`  HTTP proxy with Basic auth   127.0.0.1:${proxy.port}   (stands in for proxy.corp:8080)`);
say(`  SSH server (ssh2)            ${HOST}:${sshd.port}   (a name only the proxy can resolve)`);
say(`  HTTPS_PROXY=http://demo:***@127.0.0.1:${proxy.port}   NO_PROXY=${env.NO_PROXY}`);
say();
say(`$ burrow route ${HOST} ${sshd.port}`);
show('', (await run(burrow, ['route', HOST, String(sshd.port)], { env })).stdout);
say();

let failed = false;
const ssh = await run('ssh', ['-V']);
if (ssh.error) {
  say('No OpenSSH client (ssh) on this machine: showing a raw TCP round trip through burrow instead.');
  const echo = await startEchoServer();
  const round = await run(burrow, ['connect', '-x', `http://demo:p%40ss%20word@127.0.0.1:${proxy.port}`, '127.0.0.1', String(echo.port)], { input: 'hello through the proxy\n' });
  show('[stdout]', round.stdout);
  show('[stderr]', round.stderr);
  say(`  burrow exit code: ${round.status}`);
  failed = round.status !== 0 || round.stdout !== 'hello through the proxy\n';
  await echo.close();
} else {
  const sshArgs = (port: number) => ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', `ProxyCommand=${burrow} connect %h %p`, '-p', String(port), `demo@${HOST}`];
  say(`$ ssh -o ProxyCommand='burrow connect %h %p' -p ${sshd.port} demo@${HOST} uname -a`);
  const session = await run('ssh', [...sshArgs(sshd.port), 'uname -a'], { env });
  show('[ssh stdout]', session.stdout);
  show('[ssh stderr]', session.stderr);
  say(`  ssh exit code: ${session.status}   (the SSH server ran: ${sshd.commands.join(', ') || 'nothing'})`);
  failed = session.status !== 0;
  say();
  say('Now the same through a proxy that allows CONNECT to port 443 only, as many corporate proxies do:');
  const strictEnv = { ...env, HTTPS_PROXY: `http://127.0.0.1:${strictProxy.port}` };
  const refused = await run('ssh', [...sshArgs(sshd.port), 'true'], { env: strictEnv });
  show('[ssh stderr]', refused.stderr);
  const direct = await run(burrow, ['connect', HOST, String(sshd.port)], { env: strictEnv });
  say(`  ssh exit code: ${refused.status}; burrow's own exit code: ${direct.status} (3 = the proxy refused)`);
}

await Promise.all([proxy.close(), strictProxy.close(), sshd.close()]);
say();
say(failed ? 'demo FAILED' : 'demo OK: ssh went through the proxy with burrow as its ProxyCommand');
process.exitCode = failed ? 1 : 0;
