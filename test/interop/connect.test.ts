// `burrow connect` as OpenSSH's ProxyCommand against real proxies and a real sshd (test/helpers/real-peers.ts):
// squid with Basic auth through HTTPS_PROXY, dante through ALL_PROXY=socks5h://, a squid→dante chain, microsocks with
// auth, tinyproxy; scp of 20 MB each way; squid's 403 for a non-443 port; bad credentials; half-close through dante.
//
// Environment routes never apply to loopback targets (Go's rules, REFERENCE.md §3), so env-routed cases use the name
// sshd.burrow.test, which only the proxy can resolve (squid's hosts_file; dante's private /etc/hosts). A run that
// succeeds with that name therefore went through the proxy.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesWithEnv } from '../../peers/processes.ts';
import {
  DANTE_PASSWORD,
  DANTE_USER,
  MICROSOCKS_PASSWORD,
  MICROSOCKS_USER,
  SQUID_PASSWORD,
  SQUID_USER,
  cleanEnv,
  danteUserExists,
  closedPort,
  makeTempDir,
  replyFor,
  run,
  runScp,
  runSsh,
  sha256File,
  shellQuote,
  startDante,
  startMicrosocks,
  startReplyAfterEofServer,
  startSquid,
  startSshd,
  startTinyproxy,
  whyCannotRun,
  withCredentials,
  type Peer,
  type ReplyAfterEofServer,
  type RunResult,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BURROW = join(ROOT, 'bin', 'burrow');
const BUNDLE = join(ROOT, 'dist', 'burrow.mjs');
const TARGET_NAME = 'sshd.burrow.test';
const REMOTE = 'echo hello from sshd; id -un';
const BIG_FILE_BYTES = 20 * 1024 * 1024;

const skipReason = whyCannotRun('squid', 'danted', 'microsocks', 'tinyproxy', 'sshd', 'ssh', 'scp', 'ssh-keygen', 'unshare');
const title = (name: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : name);

/**
 * `burrow connect %h %p ARGS…` as one ProxyCommand string. OpenSSH expands `%` tokens in the whole string, so a
 * percent-encoded proxy URL (`p%3Aa%20s%40ss`) must have its `%` doubled, or ssh fails with "unknown key %3".
 */
const proxyCommand = (...args: string[]): string =>
  [BURROW, 'connect', '%h', '%p', ...args].map((w) => (w === '%h' || w === '%p' ? w : shellQuote(w).replace(/%/g, '%%'))).join(' ');

const burrow = (args: string[], options: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> =>
  run(process.execPath, [BURROW, ...args], {
    env: cleanEnv(options.env ?? {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    timeoutMs: options.timeoutMs ?? 30_000,
  });

describe.skipIf(skipReason !== undefined)(title('burrow connect through real proxies to a real sshd'), () => {
  let sshd: SshdPeer;
  let squidAuth: SquidPeer; // Basic auth, knows sshd.burrow.test
  let squidOpen: SquidPeer; // no auth, first hop of the chain
  let squid443: SquidPeer; // CONNECT to 443 only, knows sshd.burrow.test
  let dante: Peer; // no auth, knows sshd.burrow.test
  let danteAuth: Peer | undefined; // username auth (system user burrowtest), when it exists
  let microsocks: Peer; // -u/-P
  let tinyproxy: Peer;
  let echo: ReplyAfterEofServer;
  let work: string;
  let home: string;
  let bigFile: string;
  const started: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run "npm run build" before the interop suite`);
    const hosts = { [TARGET_NAME]: '127.0.0.1' };
    const keep = <T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> => p.then((x) => (started.push(x), x));
    [sshd, squidAuth, squidOpen, squid443, dante, danteAuth, microsocks, tinyproxy, echo] = await Promise.all([
      keep(startSshd()),
      keep(startSquid({ auth: true, hosts })),
      keep(startSquid({ hosts })),
      keep(startSquid({ connectPorts: [443], hosts })),
      keep(startDante({ hosts })),
      danteUserExists() ? keep(startDante({ auth: 'username' })) : Promise.resolve(undefined),
      keep(startMicrosocks({ auth: true })),
      keep(startTinyproxy()),
      keep(startReplyAfterEofServer()),
    ]);
    work = makeTempDir('connect-work');
    home = join(work, 'home');
    mkdirSync(home);
    bigFile = join(work, 'big.bin');
    writeFileSync(bigFile, randomBytes(BIG_FILE_BYTES));
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Every log that may explain a failure, for assertion messages. */
  const context = (result: RunResult, ...peers: Array<Peer | undefined>): string =>
    [
      `exit ${result.code} (signal ${result.signal}, timed out ${result.timedOut}, ${result.durationMs} ms)`,
      `stdout: ${result.stdout.slice(0, 2000)}`,
      `stderr: ${result.stderr.slice(0, 4000)}`,
      ...[sshd, ...peers].filter((p): p is Peer => p !== undefined).map((p) => p.logTail(30)),
    ].join('\n');

  interface Route {
    name: string;
    /** The name ssh is given (%h). */
    host: () => string;
    /** Proxy variables for the ssh process (and so for the ProxyCommand). */
    env: () => Record<string, string>;
    /** burrow options after `connect %h %p`. */
    args: () => string[];
    peers: () => Array<Peer | undefined>;
    /** Checks that the tunnel went where it should have (proxy logs). */
    via?: () => Promise<void>;
    skip?: () => string | undefined;
  }

  const routes: Route[] = [
    {
      name: 'squid with Basic auth from HTTPS_PROXY (percent-encoded password), name resolved by squid',
      host: () => TARGET_NAME,
      env: () => ({ HTTPS_PROXY: withCredentials(squidAuth.url, SQUID_USER, SQUID_PASSWORD) }),
      args: () => [],
      peers: () => [squidAuth],
      via: async () => {
        await expect.poll(() => squidAuth.accessLog(), { timeout: 10_000 }).toMatch(new RegExp(`CONNECT ${TARGET_NAME.replace(/\./g, '\\.')}:${sshd.port} ${SQUID_USER} `));
      },
    },
    {
      name: 'dante from ALL_PROXY=socks5h://, name resolved by dante',
      host: () => TARGET_NAME,
      env: () => ({ ALL_PROXY: dante.url }),
      args: () => [],
      peers: () => [dante],
      via: async () => {
        await expect.poll(() => dante.logTail(200), { timeout: 10_000 }).toMatch(new RegExp(`pass\\(\\d+\\): tcp/connect .*127\\.0\\.0\\.1\\.${sshd.port}`));
      },
    },
    {
      name: 'a squid → dante chain (-x http://squid -x socks5h://dante), name resolved by dante',
      host: () => TARGET_NAME,
      env: () => ({}),
      args: () => ['-x', squidOpen.url, '-x', dante.url],
      peers: () => [squidOpen, dante],
      via: async () => {
        await expect.poll(() => squidOpen.accessLog(), { timeout: 10_000 }).toContain(`CONNECT 127.0.0.1:${dante.port}`);
        expect(squidOpen.accessLog()).not.toContain(`:${sshd.port}`);
      },
    },
    {
      name: 'microsocks with user/password (-x socks5h://user:pass@…)',
      host: () => '127.0.0.1',
      env: () => ({}),
      args: () => ['-x', withCredentials(microsocks.url, MICROSOCKS_USER, MICROSOCKS_PASSWORD)],
      peers: () => [microsocks],
    },
    {
      name: 'dante with username auth (system user, -x socks5://user:pass@…)',
      host: () => '127.0.0.1',
      env: () => ({}),
      args: () => ['-x', withCredentials(danteAuth!.url.replace('socks5h:', 'socks5:'), DANTE_USER, DANTE_PASSWORD)],
      peers: () => [danteAuth],
      via: async () => {
        await expect.poll(() => danteAuth!.logTail(200), { timeout: 10_000 }).toMatch(new RegExp(`username%${DANTE_USER}@127\\.0\\.0\\.1`));
      },
      skip: () => (danteAuth ? undefined : `no system user ${DANTE_USER} (run .ci/install-peers.sh)`),
    },
    {
      name: 'tinyproxy (-x http://…)',
      host: () => '127.0.0.1',
      env: () => ({}),
      args: () => ['-x', tinyproxy.url],
      peers: () => [tinyproxy],
      via: async () => {
        await expect.poll(() => tinyproxy.logTail(200), { timeout: 10_000 }).toMatch(/CONNECT/);
      },
    },
  ];

  for (const route of routes) describe(route.name, () => {
    it('ssh -o ProxyCommand="burrow connect %h %p" runs a remote command', async (ctx) => {
      const why = route.skip?.();
      if (why) ctx.skip(why);
      const result = await runSsh(sshd, REMOTE, {
        host: route.host(),
        proxyCommand: proxyCommand(...route.args()),
        env: cleanEnv({ HOME: home, ...route.env() }),
        timeoutMs: 30_000,
      });
      const why2 = context(result, ...route.peers());
      expect(result.code, why2).toBe(0);
      expect(result.stdout, why2).toBe(`hello from sshd\n${sshd.user}\n`);
      await route.via?.();
    });

    it('scp copies a 20 MB random file up and back, sha256 intact', async (ctx) => {
      const why = route.skip?.();
      if (why) ctx.skip(why);
      const slug = route.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
      const remoteDir = join(sshd.dir, 'incoming');
      mkdirSync(remoteDir, { recursive: true });
      const remotePath = join(remoteDir, `${slug}.bin`);
      const back = join(work, `${slug}.back`);
      const options = { host: route.host(), proxyCommand: proxyCommand(...route.args()), env: cleanEnv({ HOME: home, ...route.env() }), timeoutMs: 90_000 };

      const up = await runScp(sshd, 'upload', bigFile, remotePath, options);
      expect(up.code, context(up, ...route.peers())).toBe(0);
      expect(sha256File(remotePath)).toBe(sha256File(bigFile));

      const down = await runScp(sshd, 'download', back, remotePath, options);
      expect(down.code, context(down, ...route.peers())).toBe(0);
      expect(sha256File(back)).toBe(sha256File(bigFile));
      rmSync(remotePath, { force: true });
      rmSync(back, { force: true });
    });
  });

  it('no burrow connect outlives its ssh session (OpenSSH ends the ProxyCommand with SIGHUP)', async () => {
    // burrow's process title hides its arguments, so it is found by a marker in its environment instead.
    const marker = `CONNECT_TEST_SESSION=${randomBytes(8).toString('hex')}`;
    const [name, value] = marker.split('=') as [string, string];
    const route = routes[0]!;
    const session = runSsh(sshd, 'sleep 2; echo done', {
      host: route.host(),
      proxyCommand: proxyCommand(...route.args()),
      env: cleanEnv({ HOME: home, ...route.env(), [name]: value }),
      timeoutMs: 30_000,
    });
    const burrows = () => processesWithEnv(marker).filter((p) => p.cmdline.startsWith('burrow connect'));
    // While the session is open the relay is there (so the check below can see one)…
    await expect.poll(() => burrows().length, { timeout: 10_000 }).toBe(1);
    const result = await session;
    expect(result.code, context(result, ...route.peers())).toBe(0);
    expect(result.stdout).toBe('done\n');
    // …and once ssh has gone, so has burrow.
    await expect.poll(() => burrows(), { timeout: 10_000 }).toEqual([]);
  });

  describe('refusals and errors', () => {
    it('squid allowing CONNECT only to 443: exit 3, empty stdout, stderr names proxy, target, 403 and NO_PROXY', async () => {
      const result = await burrow(['connect', TARGET_NAME, String(sshd.port)], { env: { HOME: home, HTTPS_PROXY: squid443.url } });
      const why = context(result, squid443);
      expect(result.code, why).toBe(3);
      expect(result.stdout, why).toBe('');
      expect(result.stderr, why).toContain(`127.0.0.1:${squid443.port}`);
      expect(result.stderr, why).toContain(`${TARGET_NAME}:${sshd.port}`);
      expect(result.stderr, why).toContain('403');
      expect(result.stderr, why).toContain('NO_PROXY');
    });

    it('the same 403 under ssh: ssh fails and its stderr carries burrow\'s explanation', async () => {
      const result = await runSsh(sshd, REMOTE, {
        host: TARGET_NAME,
        proxyCommand: proxyCommand(),
        env: cleanEnv({ HOME: home, HTTPS_PROXY: squid443.url }),
      });
      const why = context(result, squid443);
      expect(result.code, why).toBe(255);
      expect(result.stdout, why).toBe('');
      expect(result.stderr, why).toContain('403');
      expect(result.stderr, why).toContain('NO_PROXY');
    });

    it('squid without credentials: exit 4 and stderr says the proxy wants authentication (407)', async () => {
      const result = await burrow(['connect', TARGET_NAME, String(sshd.port)], { env: { HOME: home, HTTPS_PROXY: squidAuth.url } });
      const why = context(result, squidAuth);
      expect(result.code, why).toBe(4);
      expect(result.stdout, why).toBe('');
      expect(result.stderr, why).toContain('407');
      expect(result.stderr, why).toContain(`127.0.0.1:${squidAuth.port}`);
    });

    /** Every form in which a password could leak: as given, percent-encoded, inside a Basic header. */
    const secretForms = (user: string, password: string): string[] => [
      password,
      encodeURIComponent(password),
      Buffer.from(`${user}:${password}`).toString('base64'),
      ...password.split(/[^A-Za-z0-9]+/).filter((part) => part.length >= 5),
    ];

    it('squid with a wrong password at -vvv --log-file: exit 4, the password is on neither stderr nor the log file', async () => {
      const wrong = 'Wr0ngPw:S3cretXyz Q@z';
      const logFile = join(work, 'wrong-squid.log');
      const url = withCredentials(squidAuth.url, SQUID_USER, wrong);
      const result = await burrow(['connect', TARGET_NAME, String(sshd.port), '-vvv', '--log-file', logFile], { env: { HOME: home, HTTPS_PROXY: url } });
      const why = context(result, squidAuth);
      expect(result.code, why).toBe(4);
      expect(result.stdout, why).toBe('');
      expect(result.stderr, why).toContain(`127.0.0.1:${squidAuth.port}`);
      expect(existsSync(logFile), `${logFile} was not written at -vvv\n${why}`).toBe(true);
      const log = readFileSync(logFile, 'utf8');
      expect(log.length, 'the -vvv log file is empty').toBeGreaterThan(0);
      for (const form of secretForms(SQUID_USER, wrong)) {
        expect(result.stderr, `stderr leaks "${form}"`).not.toContain(form);
        expect(log, `the log file leaks "${form}"`).not.toContain(form);
      }
    });

    it('squid with the right password at -vvv --log-file under ssh: the password is on neither stderr nor the log file', async () => {
      const logFile = join(work, 'right-squid.log');
      const result = await runSsh(sshd, REMOTE, {
        host: TARGET_NAME,
        proxyCommand: proxyCommand('-vvv', '--log-file', logFile),
        env: cleanEnv({ HOME: home, HTTPS_PROXY: withCredentials(squidAuth.url, SQUID_USER, SQUID_PASSWORD) }),
      });
      const why = context(result, squidAuth);
      expect(result.code, why).toBe(0);
      expect(existsSync(logFile), `${logFile} was not written at -vvv\n${why}`).toBe(true);
      const log = readFileSync(logFile, 'utf8');
      expect(log.length, 'the -vvv log file is empty').toBeGreaterThan(0);
      for (const form of secretForms(SQUID_USER, SQUID_PASSWORD)) {
        // ssh's stderr carries the ProxyCommand's stderr.
        expect(result.stderr, `stderr leaks "${form}"`).not.toContain(form);
        expect(log, `the log file leaks "${form}"`).not.toContain(form);
      }
    });

    it('microsocks with a wrong password: exit 4, the password is not on stderr', async () => {
      const wrong = 'N0tTheMicroPw';
      const logFile = join(work, 'wrong-microsocks.log');
      const result = await burrow(
        ['connect', '127.0.0.1', String(sshd.port), '-x', withCredentials(microsocks.url, MICROSOCKS_USER, wrong), '-vvv', '--log-file', logFile],
        { env: { HOME: home } },
      );
      const why = context(result, microsocks);
      expect(result.code, why).toBe(4);
      expect(result.stdout, why).toBe('');
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      for (const form of secretForms(MICROSOCKS_USER, wrong)) {
        expect(result.stderr, `stderr leaks "${form}"`).not.toContain(form);
        expect(log, `the log file leaks "${form}"`).not.toContain(form);
      }
    });

    it('dante with a wrong system password: exit 4', async (ctx) => {
      if (!danteAuth) ctx.skip(`no system user ${DANTE_USER} (run .ci/install-peers.sh)`);
      const result = await burrow(['connect', '127.0.0.1', String(sshd.port), '-x', withCredentials(danteAuth!.url, DANTE_USER, 'n0t-the-password')], {
        env: { HOME: home },
      });
      const why = context(result, danteAuth);
      expect(result.code, why).toBe(4);
      expect(result.stdout, why).toBe('');
      expect(result.stderr, why).not.toContain('n0t-the-password');
    });

    it('a proxy that does not listen: exit 5 and stderr names it', async () => {
      const port = await closedPort();
      const result = await burrow(['connect', '127.0.0.1', String(sshd.port), '-x', `http://127.0.0.1:${port}`, '--connect-timeout', '5'], { env: { HOME: home } });
      expect(result.code, context(result)).toBe(5);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`127.0.0.1:${port}`);
    });
  });

  describe('half-close through dante (which keeps the reply direction open)', () => {
    it('sends, closes stdin, and still receives the reply that the target sends after EOF', async () => {
      const input = 'hello, half-closed world\n';
      const result = await burrow(['connect', '127.0.0.1', String(echo.port), '-x', dante.url], { env: { HOME: home }, input, timeoutMs: 20_000 });
      const why = context(result, dante);
      expect(result.code, why).toBe(0);
      expect(result.stdout, why).toBe(replyFor(input));
    });

    it('the same with 4 MiB of input: every byte arrives before the FIN', async () => {
      const input = randomBytes(4 * 1024 * 1024);
      const result = await burrow(['connect', '127.0.0.1', String(echo.port), '-x', dante.url], { env: { HOME: home }, input, timeoutMs: 30_000 });
      const why = context(result, dante);
      expect(result.code, why).toBe(0);
      expect(result.stdout, why).toBe(replyFor(input));
    });

    it('through a squid → dante chain it ends without hanging (squid drops tunnels on half-close)', async () => {
      // squid 5 closes a CONNECT tunnel on the client's half-close (REFERENCE.md §3), so a chain whose first hop is
      // squid cannot carry a half-close: the target's reply is lost. burrow must still end (not hang) once squid closes.
      const input = 'chain half-close\n';
      const result = await burrow(['connect', '127.0.0.1', String(echo.port), '-x', squidOpen.url, '-x', dante.url], {
        env: { HOME: home },
        input,
        timeoutMs: 20_000,
      });
      expect(result.timedOut, context(result, squidOpen, dante)).toBe(false);
      expect(result.stdout === '' || result.stdout === replyFor(input), context(result, squidOpen, dante)).toBe(true);
    });
  });
});
