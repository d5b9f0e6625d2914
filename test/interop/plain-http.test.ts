// Plain http:// requests through `burrow forward --http` and `burrow exec -- curl`, against real squid: the request
// goes absolute-form to the upstream proxy through dial(), with the same 407 negotiation (NTLM's three legs on one
// connection, Digest's nonce), credentials and failover (a PAC answer "PROXY dead; PROXY good") as CONNECT (#9).
// curl is the client nobody here wrote; the origin is a node:http server that squid reaches by a test name.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForward, type ForwardProcess } from '../helpers/burrow-forward.ts';
import { SQUID_PASSWORD, SQUID_USER, cleanEnv, findBinary, closedPort, makeTempDir, run, startSquid, whyCannotRun, type SquidPeer } from '../helpers/real-peers.ts';

const BURROW = fileURLToPath(new URL('../../bin/burrow', import.meta.url));
const WEB_NAME = 'web.burrow.test';
const skipReason = whyCannotRun('squid', 'curl');

describe.skipIf(skipReason !== undefined)(`plain http:// through dial() and real squid${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let web: Server;
  let webPort: number;
  let ntlmSquid: SquidPeer;
  let digestSquid: SquidPeer;
  let openSquid: SquidPeer;
  let pacFile: string;
  const forwards: ForwardProcess[] = [];

  beforeAll(async () => {
    web = createServer((req, res) => res.end(`hello ${req.url}`));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as AddressInfo).port;
    const hosts = { [WEB_NAME]: '127.0.0.1' };
    [ntlmSquid, digestSquid, openSquid] = await Promise.all([
      startSquid({ auth: true, authSchemes: ['ntlm'], hosts, plainHttp: true }),
      startSquid({ auth: true, authSchemes: ['digest'], hosts, plainHttp: true }),
      startSquid({ hosts, plainHttp: true }),
    ]);
    const dead = await closedPort(); // nothing listens there: the first PAC proxy refuses the connection
    pacFile = join(makeTempDir('plain-http-pac'), 'proxy.pac');
    writeFileSync(pacFile, `function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:${dead}; PROXY 127.0.0.1:${openSquid.port}"; }\n`);
  });

  afterAll(async () => {
    await Promise.all(forwards.map((f) => f.stop().catch(() => undefined)));
    await Promise.all([ntlmSquid, digestSquid, openSquid].filter(Boolean).map((p) => p.stop()));
    if (web) await new Promise((resolve) => web.close(resolve));
  });

  const ntlmUrl = () => `http://CORP%5Calice:${encodeURIComponent('n7lm p@ss')}@127.0.0.1:${ntlmSquid.port}`;
  const digestUrl = () => `http://${encodeURIComponent(SQUID_USER)}:${encodeURIComponent(SQUID_PASSWORD)}@127.0.0.1:${digestSquid.port}`;
  const cases: Array<[name: string, env: () => NodeJS.ProcessEnv, args: () => string[], squid: () => SquidPeer, user: RegExp]> = [
    ['NTLM squid (HTTP_PROXY with DOMAIN\\user)', () => cleanEnv({ HTTP_PROXY: ntlmUrl() }), () => [], () => ntlmSquid, /\S*alice/],
    ['Digest squid', () => cleanEnv({ HTTP_PROXY: digestUrl() }), () => [], () => digestSquid, new RegExp(SQUID_USER)],
    ['PAC "PROXY dead; PROXY good"', () => cleanEnv(), () => ['--pac', pacFile], () => openSquid, /-/],
  ];

  const curl = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()) => run(findBinary('curl')!, ['-sS', '--max-time', '20', ...args], { env, timeoutMs: 30_000 });

  it.each(cases)('forward --http: curl gets the page through %s', async (name, env, args, squid, user) => {
    const forward = await startForward(['-v', ...args(), '--http', '0'], { env: env(), listeners: 1 });
    forwards.push(forward);
    const path = `/forward-${name.split(' ')[0]!.toLowerCase()}`;
    const result = await curl(['-x', `http://127.0.0.1:${forward.ports[0]}`, `http://${WEB_NAME}:${webPort}${path}`]);
    expect(result.stdout, `${result.stderr}\n${forward.stderr()}\n${squid().logTail(20)}`).toBe(`hello ${path}`);
    expect(result.code).toBe(0);
    // squid forwarded it as a plain GET (not CONNECT), for the authenticated user.
    await expect.poll(() => squid().accessLog(), { timeout: 10_000 }).toMatch(new RegExp(`GET http://${WEB_NAME.replace(/\./g, '\\.')}:${webPort}${path} ${user.source}`));
  });

  it.each(cases)('exec -- curl http:// gets the page through %s', async (name, env, args, squid) => {
    const path = `/exec-${name.split(' ')[0]!.toLowerCase()}`;
    const result = await run(BURROW, ['exec', ...args(), '--', findBinary('curl')!, '-sS', '--max-time', '20', `http://${WEB_NAME}:${webPort}${path}`], { env: env(), timeoutMs: 40_000 });
    expect(result.stdout, `${result.stderr}\n${squid().logTail(20)}`).toBe(`hello ${path}`);
    expect(result.code).toBe(0);
    await expect.poll(() => squid().accessLog(), { timeout: 10_000 }).toContain(`GET http://${WEB_NAME}:${webPort}${path}`);
  });
});
