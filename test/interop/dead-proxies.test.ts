// Dead proxies remembered, with OpenSSH and real squid: a PAC answers "PROXY black-hole; PROXY squid". The black hole
// accepts TCP and never answers, so the first ssh reaches squid only after the per-alternative limit; the second,
// within the memory window, must not try the black hole at all (its accept count stays put and burrow's log says the
// alternative was remembered), and goes straight to squid. A third with --fresh tries the black hole again.
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeTempDir, runSsh, shellQuote, startSquid, startSshd, whyCannotRun, type SquidPeer, type SshdPeer } from '../helpers/real-peers.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const TARGET = 'sshd.burrow.test';
const skipReason = whyCannotRun('squid', 'sshd', 'ssh', 'ssh-keygen');

describe.skipIf(skipReason !== undefined)(`a dead proxy first in a PAC is remembered across ssh runs${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sshd: SshdPeer;
  let squid: SquidPeer;
  let work: string;
  let blackHole: Server;
  let accepted = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    [sshd, squid] = await Promise.all([startSshd(), startSquid({ hosts: { [TARGET]: '127.0.0.1' } })]);
    work = makeTempDir('dead-proxies');
    blackHole = createServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    });
    blackHole.listen(0, '127.0.0.1');
    await once(blackHole, 'listening');
  });
  afterAll(async () => {
    await Promise.all([sshd, squid].filter(Boolean).map((p) => p.stop()));
    for (const socket of sockets) socket.destroy();
    if (blackHole) await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the second ssh goes straight to squid; --fresh tries the dead one again', async () => {
    const hole = (blackHole.address() as AddressInfo).port;
    const pac = join(work, 'proxy.pac');
    writeFileSync(pac, `function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:${hole}; PROXY 127.0.0.1:${squid.port}"; }\n`);
    const env = cleanEnv({ XDG_CACHE_HOME: join(work, 'cache') });
    const ssh = (...extra: string[]) =>
      runSsh(sshd, 'echo through-squid', { host: TARGET, proxyCommand: `${[BURROW, 'connect', '-v', '--pac', pac, '--alternative-timeout', '2', ...extra].map(shellQuote).join(' ')} %h %p`, env, timeoutMs: 60_000 });
    const squidConnects = () => squid.accessLog().split('\n').filter((l) => l.includes(`CONNECT ${TARGET}:${sshd.port}`)).length;

    const first = await ssh();
    expect(first.stdout, first.stderr).toBe('through-squid\n');
    expect(accepted).toBe(1);
    expect(first.stderr).toMatch(/route alternative failed .*timed out after 2 s/);
    await expect.poll(squidConnects, { timeout: 10_000 }).toBe(1);

    const second = await ssh();
    expect(second.stdout, second.stderr).toBe('through-squid\n');
    expect(accepted).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`route alternative remembered as failed: trying it last .*route=http://127\\.0\\.0\\.1:${hole} failed_at=\\d\\d:\\d\\d said=timeout`));
    expect(second.stderr).not.toMatch(/route alternative failed/);
    expect(second.stderr).toMatch(new RegExp(`tunnel open .*route=http://127\\.0\\.0\\.1:${squid.port}`));
    await expect.poll(squidConnects, { timeout: 10_000 }).toBe(2);

    const fresh = await ssh('--fresh');
    expect(fresh.stdout, fresh.stderr).toBe('through-squid\n');
    expect(accepted).toBe(2);
  });
});
