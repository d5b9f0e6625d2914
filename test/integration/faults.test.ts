// Fault injection for `burrow connect` with real pipe(2)s as stdin and stdout (test/helpers/pipe-harness.py), the way
// OpenSSH runs a ProxyCommand, and with OpenSSH's own client. Hermetic: the target and the misbehaving proxies are
// Node peers written to fail in one way each; the same faults behind real squid, dante, microsocks and tinyproxy are
// in test/interop/faults.test.ts.
//
// Every case asserts the exit code, the message and an upper bound on the time: a generous bound (well above what
// a loaded machine needs) that proves "no hang", not a benchmark.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBlackHole } from '../helpers/doctor-peers.ts';
import { FAULT_BANNER, startFaultTarget, type FaultMode, type FaultTarget } from '../helpers/fault-target.ts';
import { listen, type Peer } from '../helpers/node-peers.ts';
import { HAVE_SSH, runSsh } from '../helpers/openssh-client.ts';
import { isEof, isOut, NO_HANG_MS, runPiped, type PipedBurrow } from '../helpers/pipe-run.ts';
import { BURROW } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';


const track = trackPeers();
const target = (mode: FaultMode): Promise<FaultTarget> => track(startFaultTarget(mode));
const piped = (args: string[]): Promise<PipedBurrow> => track(Promise.resolve(runPiped(args)));
const peer = (p: Promise<Peer>): Promise<Peer> => track(p);

/** A "proxy" that accepts, reads the request, and then does `answer` to the socket. */
function startScriptedProxy(answer: (socket: Socket) => void): Promise<Peer> {
  return peer(listen(createServer({ allowHalfOpen: true }, (socket) => socket.once('data', () => answer(socket)))));
}

const directArgs = (t: FaultTarget): string[] => ['connect', t.host, String(t.port), '--direct'];

describe('burrow connect with pipes, direct', () => {
  it('a target that accepts and closes at once: EOF reaches the pipe, one line says why, exit 0 once stdin ends', async () => {
    const t = await target('close');
    const run = await piped(directArgs(t));
    await run.waitFor('EOF on the stdout pipe', isEof, NO_HANG_MS);
    run.send('close-stdin');
    const exit = await run.exited(NO_HANG_MS);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toMatch(/^burrow: the target 127\.0\.0\.1:\d+ \(reached directly\) closed the connection without a word \(0 bytes\); hint: .*MaxStartups/m);
    expect(exit.stderr.trim().split('\n')).toHaveLength(1);
  });

  it("the target's FIN with stdin still open: EOF at once, stdin keeps flowing to the target (half-close), then exit 0", async () => {
    const t = await target('banner-then-fin');
    const run = await piped(directArgs(t));
    await run.waitFor('EOF after the banner', isEof, NO_HANG_MS);
    expect(run.events.filter(isOut).at(-1)?.total).toBe(FAULT_BANNER.length);
    run.send('write after the target ended');
    await expect.poll(() => t.received(), { timeout: NO_HANG_MS }).toBe('after the target ended'.length);
    run.send('close-stdin');
    const exit = await run.exited(NO_HANG_MS);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
  });

  it('a target that resets the tunnel: exit 6 with the one-line message', async () => {
    const t = await target('banner-then-reset');
    const run = await piped(directArgs(t));
    await run.waitFor('the banner', isOut, NO_HANG_MS);
    run.send('write reset now');
    const exit = await run.exited(NO_HANG_MS);
    expect(exit.code).toBe(6);
    expect(exit.stderr).toMatch(/^burrow: the tunnel to 127\.0\.0\.1:\d+ \(direct\) broke after it was established: ECONNRESET .*; hint: /);
    expect(run.events.some(isEof)).toBe(true);
  });

  it('the reader of stdout goes away (EPIPE): burrow ends, exit 0', async () => {
    const t = await target('stream');
    const run = await piped(directArgs(t));
    await run.waitFor('data', isOut, NO_HANG_MS);
    run.send('close-stdout');
    const exit = await run.exited(NO_HANG_MS);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
  });

  for (const [signal, code] of [
    ['HUP', 0],
    ['INT', 130],
    ['TERM', 143],
  ] as const) {
    it(`SIG${signal} on an idle tunnel: exit ${code}, stdout ends`, async () => {
      const t = await target('sink');
      const run = await piped(directArgs(t));
      await run.waitFor('the banner', isOut, NO_HANG_MS);
      run.send(`signal ${signal}`);
      const exit = await run.exited(NO_HANG_MS);
      expect(exit.code).toBe(code);
      expect(exit.signal).toBeNull();
      expect(run.events.some(isEof)).toBe(true);
    });
  }
});

describe('burrow connect with pipes, proxies that fail before the tunnel opens', () => {
  it('a silent HTTP proxy: exit 5 after --connect-timeout, saying what it waited for', async () => {
    const hole = await peer(startBlackHole());
    const run = await piped(['connect', 'target.example', '22', '-x', `http://127.0.0.1:${hole.port}`, '--connect-timeout', '1']);
    const exit = await run.exited(NO_HANG_MS);
    expect(exit.code).toBe(5);
    expect(exit.stderr).toMatch(/^burrow: timed out after 1 s waiting for proxy http:\/\/127\.0\.0\.1:\d+ to answer CONNECT target\.example:22; hint: /);
  });

  it('a silent SOCKS proxy: exit 5 after --connect-timeout, saying what it waited for', async () => {
    const hole = await peer(startBlackHole());
    const run = await piped(['connect', 'target.example', '22', '-x', `socks5h://127.0.0.1:${hole.port}`, '--connect-timeout', '1']);
    const exit = await run.exited(NO_HANG_MS);
    expect(exit.code).toBe(5);
    expect(exit.stderr).toMatch(/^burrow: timed out after 1 s waiting for the SOCKS proxy socks5h:\/\/127\.0\.0\.1:\d+ to answer CONNECT target\.example:22; hint: /);
  });

  it('an HTTP proxy that stalls in the middle of its answer: exit 5, naming the answer it waited for', async () => {
    const proxy = await startScriptedProxy((socket) => socket.write('HTTP/1.1 200 Connection established\r\nVia: 1.1 stall\r\n'));
    const run = await piped(['connect', 'target.example', '22', '-x', proxy.url.replace('tcp:', 'http:'), '--connect-timeout', '1']);
    const exit = await run.exited(NO_HANG_MS);
    expect(exit.code).toBe(5);
    expect(exit.stderr).toMatch(/^burrow: timed out after 1 s waiting for proxy http:\/\/127\.0\.0\.1:\d+ to answer CONNECT target\.example:22/);
  });

  for (const scheme of ['socks4', 'socks4a', 'socks5', 'socks5h']) {
    it(`a ${scheme} proxy that closes instead of answering: exit 3 at once, named like HTTP's`, async () => {
      const proxy = await startScriptedProxy((socket) => socket.end());
      // An address, not a name: socks4 and socks5 resolve locally first.
      const run = await piped(['connect', '127.0.0.1', '22', '-x', `${scheme}://127.0.0.1:${proxy.port}`, '--connect-timeout', '60']);
      const exit = await run.exited(NO_HANG_MS);
      expect(exit.code).toBe(3);
      expect(exit.stderr).toMatch(new RegExp(`^burrow: the SOCKS proxy ${scheme}://127\\.0\\.0\\.1:\\d+ closed the connection before answering CONNECT 127\\.0\\.0\\.1:22; hint: `));
    });
  }
});

describe('failover past a SOCKS proxy that closes', () => {
  it('via: [that proxy, direct] moves on at once (well inside --alternative-timeout) and opens the direct route', async () => {
    const closer = await startScriptedProxy((socket) => socket.end());
    const t = await target('banner-then-fin');
    const dir = mkdtempSync(join(tmpdir(), 'burrow-failover-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `proxies:\n  closer: socks5h://127.0.0.1:${closer.port}\nrules:\n  - hosts: [127.0.0.1]\n    via: [closer, direct]\n`);
    const started = Date.now();
    const run = await piped(['connect', t.host, String(t.port), '--config', config, '--alternative-timeout', '60', '-v']);
    await run.waitFor('the banner through the direct route', isOut, NO_HANG_MS);
    expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
    run.send('close-stdin');
    const exit = await run.exited(NO_HANG_MS);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toMatch(/route alternative failed .*closed the connection before answering/);
    expect(closer.connections).toBe(1);
  });
});

describe.skipIf(!HAVE_SSH)("OpenSSH's client through burrow", () => {
  it('ssh to a server that accepts and closes: ssh says "Connection closed" and burrow says why, at once', async () => {
    const t = await target('close');
    const started = Date.now();
    const result = await runSsh({ host: t.host, port: t.port, proxyCommand: `${BURROW} connect %h %p --direct`, command: 'true' });
    expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/Connection closed by (remote host|UNKNOWN)/);
    expect(result.stderr).toMatch(/burrow: the target 127\.0\.0\.1:\d+ \(reached directly\) closed the connection without a word/);
  });
});
