// `burrow forward` with real clients and real proxies: OpenSSH through -L to a real sshd, curl (a client nobody
// here wrote) through -D (--socks5-hostname) and --http (CONNECT to a TLS server, plain http://), upstream squid
// with Basic auth and dante. Targets are names only the proxy resolves (squid's hosts_file, dante's private
// /etc/hosts), so a success proves the route went through the proxy.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomBytes, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLocal, exchange, startForward, type ForwardProcess } from '../helpers/burrow-forward.ts';
import {
  SQUID_PASSWORD,
  SQUID_USER,
  cleanEnv,
  findBinary,
  run,
  sshBaseOptions,
  startDante,
  startSquid,
  startSshd,
  startTinyproxy,
  whyCannotRun,
  withCredentials,
  replyFor,
  startReplyAfterEofServer,
  type Peer,
  type ReplyAfterEofServer,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';
import { makeTestCa } from '../helpers/tls-proxy.ts';

const SSH_NAME = 'sshd.burrow.test';
const WEB_NAME = 'web.burrow.test';
const TLS_NAME = 'tls.burrow.test';
const EOF_NAME = 'reply.burrow.test';

const skipReason = whyCannotRun('squid', 'danted', 'tinyproxy', 'sshd', 'ssh', 'ssh-keygen', 'unshare', 'curl');
const title = (name: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : name);

async function listenLocal<T extends HttpServer | HttpsServer>(server: T): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe.skipIf(skipReason !== undefined)(title('burrow forward with real clients through real proxies'), () => {
  let sshd: SshdPeer;
  let squid: SquidPeer; // Basic auth; resolves the three test names
  let dante: Peer; // no auth; resolves the three test names
  let tinyproxy: Peer;
  let web: HttpServer;
  let webPort: number;
  let tls: HttpsServer;
  let tlsPort: number;
  let viaSquid: ForwardProcess; // HTTPS_PROXY=squid with credentials: -L to sshd, -D, --http
  let viaDante: ForwardProcess; // ALL_PROXY=socks5h://dante: -L to the reply-after-EOF server, -D
  let replyServer: ReplyAfterEofServer;
  let viaTinyproxy: ForwardProcess; // -x tinyproxy: --http
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    const hosts = { [SSH_NAME]: '127.0.0.1', [WEB_NAME]: '127.0.0.1', [TLS_NAME]: '127.0.0.1', [EOF_NAME]: '127.0.0.1' };
    replyServer = await startReplyAfterEofServer();
    stops.push(() => replyServer.stop());
    web = createHttpServer((req, res) => res.end(`hello ${req.url}`));
    const ca = makeTestCa();
    tls = createHttpsServer({ cert: ca.cert, key: ca.key }, (req, res) => res.end(`tls hello ${req.url}`));
    [webPort, tlsPort] = await Promise.all([listenLocal(web), listenLocal(tls)]);
    stops.push(() => new Promise((r) => web.close(r)), () => new Promise((r) => tls.close(r)));
    [sshd, squid, dante, tinyproxy] = await Promise.all([startSshd(), startSquid({ auth: true, hosts }), startDante({ hosts }), startTinyproxy()]);
    stops.push(() => sshd.stop(), () => squid.stop(), () => dante.stop(), () => tinyproxy.stop());
    const squidUrl = withCredentials(squid.url, SQUID_USER, SQUID_PASSWORD);
    [viaSquid, viaDante, viaTinyproxy] = await Promise.all([
      startForward(['-v', '-L', `0:${SSH_NAME}:${sshd.port}`, '-D', '0', '--http', '0'], { env: cleanEnv({ HTTPS_PROXY: squidUrl }), listeners: 3 }),
      startForward(['-v', '-L', `0:${EOF_NAME}:${replyServer.port}`, '-D', '0'], { env: cleanEnv({ ALL_PROXY: dante.url }), listeners: 2 }),
      startForward(['-v', '-x', tinyproxy.url, '--http', '0'], { env: cleanEnv(), listeners: 1 }),
    ]);
    stops.push(() => viaSquid.stop(), () => viaDante.stop(), () => viaTinyproxy.stop());
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop().catch(() => undefined)));
  });

  const curl = (args: string[]) => run(findBinary('curl')!, ['-sS', '--max-time', '20', ...args], { env: cleanEnv(), timeoutMs: 30_000 });
  const explain = (result: { code: number | null; stdout: string; stderr: string }, ...peers: Array<Peer | ForwardProcess>) =>
    [`exit ${result.code}`, `stdout: ${result.stdout.slice(0, 1000)}`, `stderr: ${result.stderr.slice(0, 2000)}`, ...peers.map((p) => ('logTail' in p ? p.logTail(30) : p.stderr()))].join('\n');

  it('OpenSSH through -L reaches the real sshd via squid with Basic auth, and carries 8 MB intact', async () => {
    const port = viaSquid.ports[0]!;
    // Not runSsh(): it passes sshd's own -p first, and ssh takes the first -p.
    const ssh = (command: string, input?: Buffer) =>
      run(findBinary('ssh')!, [...sshBaseOptions(sshd), '-p', String(port), `${sshd.user}@127.0.0.1`, command], { ...(input ? { input } : {}), timeoutMs: 60_000 });
    const hello = await ssh('echo hello from sshd; id -un');
    expect(hello.code, explain(hello, viaSquid, squid)).toBe(0);
    expect(hello.stdout).toBe(`hello from sshd\n${sshd.user}\n`);
    const payload = randomBytes(8 * 1024 * 1024);
    const digest = await ssh('sha256sum', payload);
    expect(digest.code, explain(digest, viaSquid, squid)).toBe(0);
    expect(digest.stdout).toBe(`${createHash('sha256').update(payload).digest('hex')}  -\n`);
    await expect.poll(() => squid.accessLog(), { timeout: 10_000, message: viaSquid.stderr() }).toMatch(new RegExp(`CONNECT ${SSH_NAME.replace(/\./g, '\\.')}:${sshd.port} ${SQUID_USER} `));
  });

  it('curl --socks5-hostname through -D, routed through squid with auth', async () => {
    const result = await curl(['--socks5-hostname', `127.0.0.1:${viaSquid.ports[1]}`, `http://${WEB_NAME}:${webPort}/socks`]);
    expect(result.code, explain(result, viaSquid, squid)).toBe(0);
    expect(result.stdout).toBe('hello /socks');
    await expect.poll(() => squid.accessLog(), { timeout: 10_000 }).toContain(`CONNECT ${WEB_NAME}:${webPort} ${SQUID_USER}`);
  });

  it('curl through --http: CONNECT to a TLS server, routed through squid with auth', async () => {
    const result = await curl(['-k', '-x', `http://127.0.0.1:${viaSquid.ports[2]}`, `https://${TLS_NAME}:${tlsPort}/tls`]);
    expect(result.code, explain(result, viaSquid, squid)).toBe(0);
    expect(result.stdout).toBe('tls hello /tls');
  });

  it('curl through --http: plain http:// goes to squid absolute-form with squid\'s credentials added', async () => {
    // This squid allows CONNECT only, so it answers 403, after authenticating the request: the access log shows
    // the absolute URL and the user name, which only burrow's Proxy-Authorization could have given it.
    const result = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${viaSquid.ports[2]}`, `http://${WEB_NAME}:${webPort}/plain`]);
    expect(result.code, explain(result, viaSquid, squid)).toBe(0);
    expect(result.stdout).toBe('403');
    await expect.poll(() => squid.accessLog(), { timeout: 10_000 }).toMatch(new RegExp(`GET http://${WEB_NAME.replace(/\./g, '\\.')}:${webPort}/plain ${SQUID_USER} `));
  });

  it('curl through --http: plain http:// relayed through tinyproxy', async () => {
    const result = await curl(['-x', `http://127.0.0.1:${viaTinyproxy.ports[0]}`, `http://127.0.0.1:${webPort}/tiny`]);
    expect(result.code, explain(result, viaTinyproxy, tinyproxy)).toBe(0);
    expect(result.stdout).toBe('hello /tiny');
    await expect.poll(() => tinyproxy.logTail(200), { timeout: 10_000 }).toMatch(/GET http:\/\/127\.0\.0\.1/);
  });

  it('curl --socks5-hostname through -D, routed through dante (socks5h)', async () => {
    const result = await curl(['--socks5-hostname', `127.0.0.1:${viaDante.ports[1]}`, `http://${WEB_NAME}:${webPort}/dante`]);
    expect(result.code, explain(result, viaDante, dante)).toBe(0);
    expect(result.stdout).toBe('hello /dante');
    await expect.poll(() => dante.logTail(200), { timeout: 10_000 }).toMatch(new RegExp(`tcp/connect .*127\\.0\\.0\\.1\\.${webPort}`));
  });

  it('curl through -D to a name the route cannot resolve gets a SOCKS failure, and the listener keeps serving', async () => {
    const bad = await curl(['--socks5-hostname', `127.0.0.1:${viaDante.ports[1]}`, `http://nowhere.burrow.test:${webPort}/`]);
    // curl's CURLE_PROXY (97): the SOCKS server answered with a failure reply, as opposed to a dropped or hung
    // connection (which curl reports as 7, 28 or 52).
    expect(bad.code, bad.stderr).toBe(97);
    expect(bad.stderr).toMatch(/Can't complete SOCKS5 connection to nowhere\.burrow\.test/);
    const good = await curl(['--socks5-hostname', `127.0.0.1:${viaDante.ports[1]}`, `http://${WEB_NAME}:${webPort}/again`]);
    expect(good.stdout).toBe('hello /again');
  });

  it('half-closes through -L and dante: the FIN reaches the target and its answer still comes back', async () => {
    const payload = randomBytes(2 * 1024 * 1024);
    const socket = await connectLocal(viaDante.ports[0]!);
    const { data, how } = await exchange(socket, payload, { timeoutMs: 30_000 });
    expect(how, viaDante.stderr()).toBe('end');
    expect(data.toString()).toBe(replyFor(payload));
  });
});
