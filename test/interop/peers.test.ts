// Proves the interop harness with the tools burrow is measured against (corkscrew, ncat, nc), before burrow is
// involved: each real daemon starts from test/helpers/real-peers.ts and carries a real ssh session or a raw CONNECT.
// When one of these fails, the peer (or its config) is broken, not burrow.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DANTE_PASSWORD,
  DANTE_USER,
  MICROSOCKS_PASSWORD,
  MICROSOCKS_USER,
  SQUID_PASSWORD,
  SQUID_USER,
  basicAuth,
  danteUserExists,
  httpConnect,
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
  type Peer,
  type ReplyAfterEofServer,
  type SquidPeer,
  type SshdPeer,
} from '../helpers/real-peers.ts';

const TARGET_NAME = 'sshd.burrow.test';
const skipReason = whyCannotRun(
  'squid', 'danted', 'microsocks', 'tinyproxy', 'sshd', 'ssh', 'scp', 'ssh-keygen', 'corkscrew', 'ncat', 'nc', 'unshare',
);
const title = (name: string): string => (skipReason ? `${name} (skipped: ${skipReason})` : name);

describe.skipIf(skipReason !== undefined)(title('real peers, proven with anchor tools'), () => {
  let sshd: SshdPeer;
  let work: string;
  const peers: Peer[] = [];
  const keep = <T extends Peer>(peer: T): T => {
    peers.push(peer);
    return peer;
  };

  beforeAll(async () => {
    sshd = await startSshd();
    work = makeTempDir('peers-work');
  });
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Asserts a successful remote command and shows every log involved when it is not. */
  const expectSshOk = (result: Awaited<ReturnType<typeof runSsh>>, ...involved: Peer[]): void => {
    const context = [
      `ssh exit ${result.code} (signal ${result.signal}, timed out ${result.timedOut})`,
      `stderr: ${result.stderr}`,
      ...[sshd, ...involved].map((p) => p.logTail(15)),
    ].join('\n');
    expect(result.code, context).toBe(0);
    expect(result.stdout, context).toBe(`hello from sshd\n${sshd.user}\n`);
  };
  const REMOTE = 'echo hello from sshd; id -un';

  it('sshd accepts the per-run key directly', async () => {
    expectSshOk(await runSsh(sshd, REMOTE));
  });

  describe('squid', () => {
    let open: SquidPeer;
    let auth: SquidPeer;
    let only443: SquidPeer;
    beforeAll(async () => {
      [open, auth, only443] = await Promise.all([
        startSquid({ hosts: { [TARGET_NAME]: '127.0.0.1' } }).then(keep),
        startSquid({ auth: true }).then(keep),
        startSquid({ connectPorts: [443] }).then(keep),
      ]);
    });

    it('open: corkscrew carries ssh to the loopback sshd (squid allows CONNECT to 127.0.0.1)', async () => {
      const result = await runSsh(sshd, REMOTE, { proxyCommand: `corkscrew ${open.host} ${open.port} %h %p` });
      expectSshOk(result, open);
    });

    it('open: the hosts_file name resolves at the proxy only', async () => {
      const result = await runSsh(sshd, REMOTE, {
        host: TARGET_NAME,
        proxyCommand: `corkscrew ${open.host} ${open.port} %h %p`,
      });
      expectSshOk(result, open);
      // squid logs a tunnel when it closes; the name proves the route went through it.
      await expect.poll(() => open.accessLog(), { timeout: 10_000 }).toContain(`CONNECT ${TARGET_NAME}:${sshd.port}`);
    });

    it('open: the SSH banner follows the 200 on the same connection', async () => {
      // Until the banner's line is in (sshd starts a process per connection: slow on a loaded machine), not a fixed wait.
      const answer = await httpConnect(open, `127.0.0.1:${sshd.port}`, {}, { restUntil: (rest) => rest.includes('\n') });
      expect(answer.status, answer.head).toBe(200);
      expect(answer.rest.toString('latin1')).toMatch(/^SSH-2\.0-OpenSSH/);
    });

    it('auth: 407 with a Basic challenge without credentials, 407 again with a wrong password', async () => {
      const none = await httpConnect(auth, `127.0.0.1:${sshd.port}`);
      expect(none.status, none.head).toBe(407);
      expect(none.head).toMatch(/^Proxy-Authenticate: Basic realm="burrow-test"/im);
      const wrong = await httpConnect(auth, `127.0.0.1:${sshd.port}`, { 'Proxy-Authorization': basicAuth(SQUID_USER, 'p:a s@sS') });
      expect(wrong.status, wrong.head).toBe(407);
    });

    it('auth: the password with ":", " " and "@" is accepted (raw CONNECT and corkscrew)', async () => {
      const ok = await httpConnect(auth, `127.0.0.1:${sshd.port}`, { 'Proxy-Authorization': basicAuth(SQUID_USER, SQUID_PASSWORD) });
      expect(ok.status, `${ok.head}\n${auth.logTail()}`).toBe(200);
      // corkscrew reads "user:password" from a file and base64-encodes the line as it is.
      const authFile = join(work, 'corkscrew-auth');
      writeFileSync(authFile, `${SQUID_USER}:${SQUID_PASSWORD}\n`, { mode: 0o600 });
      const result = await runSsh(sshd, REMOTE, {
        proxyCommand: `corkscrew ${auth.host} ${auth.port} %h %p ${shellQuote(authFile)}`,
      });
      expectSshOk(result, auth);
    });

    it('443-only: CONNECT to the SSH port is refused with 403, and corkscrew leaves ssh without a cause', async () => {
      const answer = await httpConnect(only443, `127.0.0.1:${sshd.port}`);
      expect(answer.status, answer.head).toBe(403);
      expect(answer.head).toMatch(/X-Squid-Error: ERR_ACCESS_DENIED/);
      const result = await runSsh(sshd, REMOTE, { proxyCommand: `corkscrew ${only443.host} ${only443.port} %h %p` });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
    });

    it('half-close: squid closes the whole tunnel when the client sends FIN (nc -N gets no reply)', async () => {
      await expectNoReplyAfterFin(open);
    });
  });

  describe('dante', () => {
    let plain: Peer;
    let named: Peer;
    let target: ReplyAfterEofServer;
    beforeAll(async () => {
      [plain, named, target] = await Promise.all([
        startDante().then(keep),
        startDante({ hosts: { [TARGET_NAME]: '127.0.0.1' } }).then(keep),
        startReplyAfterEofServer(),
      ]);
    });
    afterAll(async () => {
      await target?.stop();
    });

    it('no auth: ncat --proxy-type socks5 carries ssh', async () => {
      const result = await runSsh(sshd, REMOTE, { proxyCommand: `ncat --proxy ${plain.host}:${plain.port} --proxy-type socks5 %h %p` });
      expectSshOk(result, plain);
      expect(plain.logTail()).toMatch(/pass\(\d+\): tcp\/connect/);
    });

    it('a name known only to dante (private /etc/hosts) resolves at the proxy', async () => {
      const result = await runSsh(sshd, REMOTE, {
        host: TARGET_NAME,
        proxyCommand: `ncat --proxy ${named.host}:${named.port} --proxy-type socks5 --proxy-dns remote %h %p`,
      });
      expectSshOk(result, named);
      // ...and the machine itself still cannot resolve it.
      const local = await run('getent', ['hosts', TARGET_NAME]);
      expect(local.code).not.toBe(0);
    });

    it('half-close: dante keeps the reply direction open after the client FIN (ncat gets the reply)', async () => {
      const result = await run('ncat', ['--proxy', `${plain.host}:${plain.port}`, '--proxy-type', 'socks5', target.host, String(target.port)], {
        input: 'ping',
        timeoutMs: 15_000,
      });
      expect(result.stdout, result.stderr).toBe(replyFor('ping'));
    });

    it('scp through ncat+dante copies a file intact (proves the scp helper and the sftp subsystem)', async () => {
      const local = join(work, 'scp-small');
      writeFileSync(local, randomBytes(256 * 1024));
      const remoteDir = join(sshd.dir, 'incoming');
      mkdirSync(remoteDir, { recursive: true });
      const proxyCommand = `ncat --proxy ${plain.host}:${plain.port} --proxy-type socks5 %h %p`;
      const up = await runScp(sshd, 'upload', local, join(remoteDir, 'small'), { proxyCommand });
      expect(up.code, up.stderr).toBe(0);
      expect(sha256File(join(remoteDir, 'small'))).toBe(sha256File(local));
      const back = join(work, 'scp-small.back');
      const down = await runScp(sshd, 'download', back, join(remoteDir, 'small'), { proxyCommand });
      expect(down.code, down.stderr).toBe(0);
      expect(sha256File(back)).toBe(sha256File(local));
    });

    describe.skipIf(!danteUserExists())(
      danteUserExists() ? 'username auth' : `username auth (skipped: no system user ${DANTE_USER}; run .ci/install-peers.sh)`,
      () => {
        let authed: Peer;
        beforeAll(async () => {
          authed = keep(await startDante({ auth: 'username' }));
        });

        it('accepts the system user and password, refuses a wrong one', async () => {
          const ok = await runSsh(sshd, REMOTE, {
            proxyCommand: `ncat --proxy ${authed.host}:${authed.port} --proxy-type socks5 --proxy-auth ${shellQuote(`${DANTE_USER}:${DANTE_PASSWORD}`)} %h %p`,
          });
          expectSshOk(ok, authed);
          const bad = await run('ncat', ['--proxy', `${authed.host}:${authed.port}`, '--proxy-type', 'socks5', '--proxy-auth', `${DANTE_USER}:nope`, target.host, String(target.port)], {
            input: 'x',
            timeoutMs: 15_000,
          });
          expect(bad.code).not.toBe(0);
          expect(bad.stdout).toBe('');
          await expect.poll(() => authed.logTail(), { timeout: 10_000 }).toMatch(/password authentication failed/);
        });
      },
    );
  });

  describe('microsocks', () => {
    let ms: Peer;
    beforeAll(async () => {
      ms = keep(await startMicrosocks({ auth: true }));
    });

    it('with -u/-P: ncat with the credentials carries ssh, without them it is refused', async () => {
      const ok = await runSsh(sshd, REMOTE, {
        proxyCommand: `ncat --proxy ${ms.host}:${ms.port} --proxy-type socks5 --proxy-auth ${shellQuote(`${MICROSOCKS_USER}:${MICROSOCKS_PASSWORD}`)} %h %p`,
      });
      expectSshOk(ok, ms);
      const bad = await runSsh(sshd, REMOTE, { proxyCommand: `ncat --proxy ${ms.host}:${ms.port} --proxy-type socks5 %h %p` });
      expect(bad.code).not.toBe(0);
    });
  });

  describe('tinyproxy', () => {
    let tp: Peer;
    beforeAll(async () => {
      tp = keep(await startTinyproxy());
    });

    it('nc -X connect carries ssh', async () => {
      const result = await runSsh(sshd, REMOTE, { proxyCommand: `nc -X connect -x ${tp.host}:${tp.port} %h %p` });
      expectSshOk(result, tp);
      await expect.poll(() => tp.logTail(), { timeout: 10_000 }).toMatch(/CONNECT/);
    });

    it('half-close: tinyproxy closes the whole tunnel when the client sends FIN', async () => {
      await expectNoReplyAfterFin(tp);
    });
  });
});

/** REFERENCE.md §3: some proxies end the whole CONNECT tunnel on the client's FIN, so a reply sent after it is lost. */
async function expectNoReplyAfterFin(proxy: Peer): Promise<void> {
  const target = await startReplyAfterEofServer();
  try {
    const result = await run('nc', ['-N', '-X', 'connect', '-x', `${proxy.host}:${proxy.port}`, target.host, String(target.port)], {
      input: 'ping',
      timeoutMs: 15_000,
    });
    expect(result.timedOut).toBe(false);
    expect(result.stdout).toBe('');
  } finally {
    await target.stop();
  }
}
