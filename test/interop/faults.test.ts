// Fault injection behind real proxies: `burrow connect` with real pipe(2)s as stdin and stdout
// (test/helpers/pipe-harness.py, as OpenSSH runs a ProxyCommand) and OpenSSH's client, through squid, dante,
// microsocks and tinyproxy, to a target that misbehaves (test/helpers/fault-target.ts), and with the proxy killed
// (SIGKILL, its whole process tree) in the middle of a download and of an upload.
//
// What the proxies send the client, measured here (Debian 12: squid 5.7, dante 1.4.2, microsocks 1.0.3, tinyproxy 1.11):
// - the target resets: dante resets the client too (RST); squid, microsocks and tinyproxy close it with a FIN, after
//   which the whole connection is gone (the client's next write meets a reset);
// - the proxy is killed during a download: its kernel closes the connection with a FIN (the proxy held no unread bytes
//   from the client), which no client can tell from a clean end until it writes; during an upload the unread bytes make
//   it a reset.
// burrow therefore ends stdout at once in every case (the reader, ssh, sees EOF), exits 6 with its one-line message as
// soon as a reset shows (at once, or at the client's next write), and 0 when the tunnel ends cleanly.
//
// Each case asserts the exit code, the message and a generous upper bound on the time (no hang, not a benchmark).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startFaultTarget, type FaultMode, type FaultTarget } from '../helpers/fault-target.ts';
import { runSsh } from '../helpers/openssh-client.ts';
import { isEof, isOut, NO_HANG_MS, runPiped, type PipedBurrow } from '../helpers/pipe-run.ts';
import { startDante, startMicrosocks, startSquid, startTinyproxy, whyCannotRun, type Peer } from '../helpers/real-peers.ts';
import { BURROW } from '../helpers/run-burrow.ts';
import { trackPeers } from '../helpers/track-peers.ts';


const skipReason = whyCannotRun('squid', 'danted', 'microsocks', 'tinyproxy', 'ssh', 'python3');
const PROXIES: Record<string, () => Promise<Peer>> = {
  squid: () => startSquid(),
  dante: () => startDante(),
  microsocks: () => startMicrosocks(),
  tinyproxy: () => startTinyproxy(),
};
/** Which proxies pass a target's reset on as a reset (the others close with a FIN); measured, see above. */
const RESETS_ON_TARGET_RESET = new Set(['dante']);

const track = trackPeers();
const target = (mode: FaultMode): Promise<FaultTarget> => track(startFaultTarget(mode));
const proxy = (name: string): Promise<Peer> => track<Peer & { close(): Promise<void> }>(PROXIES[name]!().then((p) => ({ ...p, close: p.stop })));
const through = (p: Peer, t: FaultTarget): Promise<PipedBurrow> => track(Promise.resolve(runPiped(['connect', t.host, String(t.port), '-x', p.url])));

/** SIGKILL for a daemon and every process it forked (dante serves each client in a child). */
function killTree(pid: number): void {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString().trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children (ps exits 1)
  }
  for (const child of children) killTree(child);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const BROKE = (p: Peer) => new RegExp(`^burrow: the tunnel to 127\\.0\\.0\\.1:\\d+ through ${p.url.replace(/[.:/]/g, '\\$&')} broke after it was established: (ECONNRESET|EPIPE) .*; hint: `, 'm');

describe.skipIf(skipReason)(`burrow connect with pipes behind real proxies${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  for (const name of Object.keys(PROXIES)) {
    describe(name, () => {
      it('a target that accepts and closes at once: EOF at once, one line naming target and proxy, exit 0 once stdin ends', async () => {
        const [p, t] = await Promise.all([proxy(name), target('close')]);
        const run = await through(p, t);
        await run.waitFor('EOF on the stdout pipe', isEof, NO_HANG_MS);
        run.send('close-stdin');
        const exit = await run.exited(NO_HANG_MS);
        expect(exit.code).toBe(0);
        expect(exit.stderr).toContain(`(reached through ${p.url}) closed the connection without a word (0 bytes); hint: `);
      });

      it(`a target that resets: ${RESETS_ON_TARGET_RESET.has(name) ? 'the proxy resets too: exit 6 at once' : 'the proxy closes (FIN): EOF at once, exit 6 at the next write'}`, async () => {
        const [p, t] = await Promise.all([proxy(name), target('banner-then-reset')]);
        const run = await through(p, t);
        await run.waitFor('the banner', isOut, NO_HANG_MS);
        run.send('write reset now');
        await run.waitFor('EOF on the stdout pipe', isEof, NO_HANG_MS);
        if (!RESETS_ON_TARGET_RESET.has(name)) run.send('write-bytes 4000000');
        const exit = await run.exited(NO_HANG_MS);
        expect(exit.code).toBe(6);
        expect(exit.stderr).toMatch(BROKE(p));
      });

      it('the proxy killed during a download: EOF at once; exit 6 with the message as soon as the client writes', async () => {
        const [p, t] = await Promise.all([proxy(name), target('stream')]);
        const run = await through(p, t);
        await run.waitFor('a megabyte of the download', (e): e is Extract<typeof e, { ev: 'out' }> => isOut(e) && e.total > 1_000_000, NO_HANG_MS);
        killTree(p.pid);
        await run.waitFor('EOF on the stdout pipe', isEof, NO_HANG_MS);
        run.send('write-bytes 4000000');
        const exit = await run.exited(NO_HANG_MS);
        expect(exit.code).toBe(6);
        expect(exit.stderr).toMatch(BROKE(p));
      });

      it('the proxy killed during an upload: exit 6 at once with the message', async () => {
        const [p, t] = await Promise.all([proxy(name), target('sink')]);
        const run = await through(p, t);
        await run.waitFor('the banner', isOut, NO_HANG_MS);
        run.send('write-bytes 200000000');
        await expect.poll(() => t.received(), { timeout: NO_HANG_MS }).toBeGreaterThan(100_000);
        killTree(p.pid);
        const exit = await run.exited(NO_HANG_MS);
        expect(exit.code).toBe(6);
        expect(exit.stderr).toMatch(BROKE(p));
      });
    });
  }

  for (const name of ['squid', 'dante']) {
    it(`ssh through ${name} to a server that accepts and closes: "Connection closed" and burrow's line, at once`, async () => {
      const [p, t] = await Promise.all([proxy(name), target('close')]);
      const started = Date.now();
      const result = await runSsh({ host: t.host, port: t.port, proxyCommand: `${BURROW} connect %h %p -x ${p.url}`, command: 'true' });
      expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
      expect(result.code).toBe(255);
      expect(result.stderr).toMatch(/Connection closed by (remote host|UNKNOWN)/);
      expect(result.stderr).toContain(`(reached through ${p.url}) closed the connection without a word`);
    });
  }
});
