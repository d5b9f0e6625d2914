// `burrow forward -L` against the Node peers: many concurrent tunnels with every byte compared, half-close both
// ways, the upstream proxy dying under open tunnels and coming back, start-up failures, --max-connections and the
// drain on SIGTERM. Every wait is bounded; nothing asserts how long anything took.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connectLocal, echoOnce, exchange, startForward, type ForwardProcess } from '../helpers/burrow-forward.ts';
import { startConnectProxy, startDigestServer, startEchoServer, type Peer } from '../helpers/node-peers.ts';
import { closedPort } from '../helpers/doctor-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';

const peers: Peer[] = [];
const forwards: ForwardProcess[] = [];
async function track<T extends Peer>(peer: Promise<T>): Promise<T> {
  const started = await peer;
  peers.push(started);
  return started;
}
async function forward(args: string[], listeners = 1): Promise<ForwardProcess> {
  const started = await startForward(args, { env: cleanEnv(), listeners });
  forwards.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(forwards.splice(0).map((f) => f.stop('SIGKILL')));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

describe('burrow forward -L', () => {
  it('carries 200 concurrent tunnels of 1 MB each through a proxy, every byte compared', async () => {
    const proxy = await track(startConnectProxy());
    const echo = await track(startEchoServer());
    const fwd = await forward(['-x', proxy.url, '-L', `0:127.0.0.1:${echo.port}`]);
    const port = fwd.ports[0]!;
    const results = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const payload = randomBytes(1024 * 1024);
        const socket = await connectLocal(port, 15_000);
        const { data, how } = await exchange(socket, payload, { timeoutMs: 60_000 });
        socket.destroy();
        return { ok: data.equals(payload), length: data.length, how };
      }),
    );
    const bad = results.filter((r) => !r.ok);
    expect(bad, JSON.stringify(bad.slice(0, 3))).toEqual([]);
    expect(proxy.requests.length).toBe(200);
    expect(proxy.requests.every((r) => r.requestLine === `CONNECT 127.0.0.1:${echo.port} HTTP/1.1`)).toBe(true);
  }, 120_000);

  it('half-closes both ways: the client\'s FIN reaches the target and the answer still comes back', async () => {
    const digest = await track(startDigestServer());
    const fwd = await forward(['-v', '-L', `0:127.0.0.1:${digest.port}`]);
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const socket = await connectLocal(fwd.ports[0]!);
    const { data, how } = await exchange(socket, payload);
    expect(how).toBe('end');
    expect(data.toString()).toBe(`${payload.length} ${createHash('sha256').update(payload).digest('hex')}\n`);
    // The -v line: id, client, target, route, bytes each way, reason.
    const line = await fwd.waitForStderr(/connection #1 closed.*/);
    expect(line).toMatch(new RegExp(`id=#1 .*client=127\\.0\\.0\\.1:\\d+ .*target=127\\.0\\.0\\.1:${digest.port} route=direct sent=${payload.length} received=\\d+ seconds=[\\d.]+ reason=client ended first, then target`));
  });

  it('closes the open tunnels with a logged reason when the proxy dies, keeps listening, and works again once it is back', async () => {
    const echo = await track(startEchoServer());
    // A port no listen(0) elsewhere can take while the proxy is down (the refusal below counts on it).
    const proxyPort = await closedPort();
    let proxy = await startConnectProxy({ port: proxyPort });
    const fwd = await forward(['-v', '-x', proxy.url, '-L', `0:127.0.0.1:${echo.port}`]);
    const port = fwd.ports[0]!;

    const open = await Promise.all(Array.from({ length: 5 }, () => connectLocal(port)));
    // Every tunnel is established and echoing before the proxy goes away.
    for (const socket of open) expect((await echoOnce(socket, 'ping\n')).toString()).toBe('ping\n');
    const ended = open.map((socket) => exchange(socket, undefined, { keepOpen: true, timeoutMs: 15_000 }));
    await proxy.close();
    const outcomes = await Promise.all(ended);
    // Each client sees the end of its tunnel (the proxy's FIN came through); like ssh, it then closes its side.
    for (const outcome of outcomes) expect(outcome.how).not.toBe('timeout');
    for (const socket of open) socket.end();
    const log = await fwd.waitForStderr(/(connection #\d+ closed[^\n]*\n[^]*){5}/);
    expect(log.match(/reason=(target ended first|target closed the connection|target error)/g)?.length).toBe(5);

    // The listener is still up: a connection now fails (logged, that client closed) without ending the process.
    const failed = await exchange(await connectLocal(port), 'x', { keepOpen: true });
    expect(failed.data.length).toBe(0);
    await fwd.waitForStderr(/warning: connection #6 from .* failed: .*refused the TCP connection/);
    expect(fwd.exited()).toBe(false);

    proxy = await startConnectProxy({ port: proxyPort });
    peers.push(proxy);
    const again = await exchange(await connectLocal(port), 'back\n');
    expect(again.data.toString()).toBe('back\n');
  });

  it('closes a client whose dial is refused, with the proxy\'s answer in the log, and serves the next one', async () => {
    const echo = await track(startEchoServer());
    const proxy = await track(startConnectProxy({ only443: true }));
    const fwd = await forward(['-x', proxy.url, '-L', `0:127.0.0.1:${echo.port}`, '-L', `0:127.0.0.1:${echo.port}`], 2);
    const first = await exchange(await connectLocal(fwd.ports[0]!), 'hi');
    expect(first.data.length).toBe(0);
    await fwd.waitForStderr(/warning: connection #1 .*403 Forbidden.*hint=/);
    const second = await exchange(await connectLocal(fwd.ports[1]!), 'hi');
    expect(second.data.length).toBe(0);
    await fwd.waitForStderr(/connection #2 .*failed/);
    expect(fwd.exited()).toBe(false);
  });

  it('exits 5 with a clear message when the port is in use, and 2 for a bad spec', async () => {
    const busy = await track(startEchoServer());
    const inUse = await runBurrow(['forward', '-L', `${busy.port}:127.0.0.1:22`]);
    expect(inUse.code).toBe(5);
    expect(inUse.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy.port} .*already in use`));
    const bad = await runBurrow(['forward', '-L', '2222:2001:db8::1:22']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/brackets/);
    const none = await runBurrow(['forward']);
    expect(none.code).toBe(2);
    const badProxy = await runBurrow(['forward', '-x', 'ftp://x', '-D', '0']);
    expect(badProxy.code).toBe(2);
  });

  it('warns about a non-loopback bind', async () => {
    const echo = await track(startEchoServer());
    const fwd = await forward(['-L', `0.0.0.0:0:127.0.0.1:${echo.port}`]);
    expect(fwd.stderr()).toMatch(/warning: -L 0\.0\.0\.0:0:.* listens on 0\.0\.0\.0:\d+, which is not a loopback address/);
  });

  it('--max-connections refuses connections beyond the limit, not the listener', async () => {
    const echo = await track(startEchoServer());
    const fwd = await forward(['--max-connections', '1', '-L', `0:127.0.0.1:${echo.port}`]);
    const first = await connectLocal(fwd.ports[0]!);
    // The first connection is echoing before the second arrives.
    expect((await echoOnce(first, 'one\n')).toString()).toBe('one\n');
    const firstDone = exchange(first, undefined, { keepOpen: true });
    const second = await exchange(await connectLocal(fwd.ports[0]!), 'two\n');
    expect(second.data.length).toBe(0);
    await fwd.waitForStderr(/--max-connections 1 reached/);
    first.end();
    await firstDone;
    const third = await exchange(await connectLocal(fwd.ports[0]!), 'three\n');
    expect(third.data.toString()).toBe('three\n');
  });

  it('on SIGTERM stops accepting, lets open tunnels finish, and exits 0', async () => {
    const echo = await track(startEchoServer());
    const fwd = await forward(['--drain-seconds', '60', '-L', `0:127.0.0.1:${echo.port}`]);
    const port = fwd.ports[0]!;
    const socket = await connectLocal(port);
    expect((await echoOnce(socket, 'before\n')).toString()).toBe('before\n');
    fwd.child.kill('SIGTERM');
    await fwd.waitForStderr(/SIGTERM: no longer accepting; waiting up to 60 s for 1 open connection/);
    await expect(connectLocal(port)).rejects.toThrow(/ECONNREFUSED/);
    const after = await exchange(socket, 'after\n');
    expect(after.data.toString()).toBe('after\n');
    const exit = await fwd.waitExit();
    expect(exit.code).toBe(0);
  });

  it('after the drain deadline, closes what is still open and exits 0', async () => {
    const echo = await track(startEchoServer());
    const fwd = await forward(['-v', '--drain-seconds', '0.2', '-L', `0:127.0.0.1:${echo.port}`]);
    const socket = await connectLocal(fwd.ports[0]!);
    expect((await echoOnce(socket, 'held\n')).toString()).toBe('held\n');
    const held = exchange(socket, undefined, { keepOpen: true, timeoutMs: 15_000 });
    const exit = await fwd.stop('SIGTERM');
    expect(exit.code).toBe(0);
    const outcome = await held;
    expect(outcome.how).not.toBe('timeout');
    expect(fwd.stderr()).toMatch(/reason=still open after the 0\.2 s drain|closed 1 connection\(s\) still open/);
  });

  it('--idle-timeout closes a tunnel that stays quiet, with the reason logged', async () => {
    const echo = await track(startEchoServer());
    const fwd = await forward(['-v', '--idle-timeout', '0.3', '-L', `0:127.0.0.1:${echo.port}`]);
    const socket = await connectLocal(fwd.ports[0]!);
    expect((await echoOnce(socket, 'hi\n')).toString()).toBe('hi\n');
    const { how } = await exchange(socket, undefined, { keepOpen: true, timeoutMs: 15_000 });
    expect(how).not.toBe('timeout');
    await fwd.waitForStderr(/reason=idle for 0\.3 s \(--idle-timeout\)/);
  });
});
