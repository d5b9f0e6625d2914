// burrow's NTLM checked by an independent verifier: an NTLM-only CONNECT proxy (peers/ntlm-proxy.py) that computes
// NTOWFv2 and the NTProofStr with impacket and refuses anything that does not prove the password. squid's
// ntlm_fake_auth (test/interop/auth.test.ts) accepts any password; this peer does not.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { impacketPython, startNtlmProxy, type NtlmProxyPeer } from '../../peers/ntlm-proxy.ts';
import { ntlmAuthenticate, ntlmNegotiate } from '../../src/dial/auth/ntlm.ts';
import { startEchoServer, type Peer } from '../helpers/node-peers.ts';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';

const PASSWORD = 'W1ndows p@ss:word';
const python = impacketPython();

describe.skipIf(!python)('NTLMv2 verified by impacket', () => {
  let proxy: NtlmProxyPeer;
  let echo: Peer;
  let home: string;

  beforeAll(async () => {
    [proxy, echo] = await Promise.all([startNtlmProxy({ user: 'alice', domain: 'CORP', password: PASSWORD }), startEchoServer()]);
    home = mkdtempSync(join(tmpdir(), 'burrow-ntlm-home-'));
  });
  afterAll(async () => {
    await Promise.all([proxy?.stop(), echo?.close()]);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const env = () => cleanEnv({ HOME: home, XDG_CACHE_HOME: join(home, '.cache'), NETRC: undefined });
  const url = (password: string) => `http://CORP%5Calice:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`;
  const since = (start: number) => proxy.events().slice(start);

  it('the right password: the proof verifies, the tunnel carries bytes, and no request carried Basic', async () => {
    const start = proxy.events().length;
    const result = await runBurrow(['connect', '-x', url(PASSWORD), '127.0.0.1', String(echo.port)], { input: 'through ntlm', env: env() });
    expect(result.stderr).not.toContain(PASSWORD);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe('through ntlm');
    expect(since(start)).toEqual([expect.stringMatching(/scheme=none$/), expect.stringMatching(/scheme=NTLM1$/), expect.stringMatching(/scheme=NTLM3$/), 'verified user CORP\\alice']);
  });

  it('a wrong password is refused by the verifier (exit 4), and is not sent as Basic either', async () => {
    const start = proxy.events().length;
    const result = await runBurrow(['connect', '-x', url('wrong password'), '127.0.0.1', String(echo.port)], { input: '', env: env() });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('rejected the credentials for user "CORP\\alice"');
    const events = since(start);
    expect(events).toContain('refused NTProofStr mismatch for CORP\\alice (wrong password)');
    expect(events.some((e) => e.endsWith('scheme=Basic'))).toBe(false);
  });

  it('a deliberately corrupted NTProofStr (right password, one bit flipped) fails', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
    const answers: string[] = [];
    let buffered = '';
    socket.on('data', (d: Buffer) => (buffered += d.toString('latin1')));
    const nextAnswer = async () => {
      await expect.poll(() => buffered.indexOf('\r\n\r\n'), { timeout: 10_000 }).toBeGreaterThanOrEqual(0);
      const end = buffered.indexOf('\r\n\r\n') + 4;
      answers.push(buffered.slice(0, end));
      buffered = buffered.slice(end);
      return answers[answers.length - 1]!;
    };
    const connect = (authorization: string) => socket.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nProxy-Authorization: ${authorization}\r\n\r\n`);
    const start = proxy.events().length;
    connect(ntlmNegotiate('CORP\\alice'));
    const challenge = /Proxy-Authenticate: NTLM (\S+)/.exec(await nextAnswer())?.[1];
    expect(challenge).toBeDefined();
    const type3 = Buffer.from(ntlmAuthenticate(challenge!, { username: 'CORP\\alice', password: PASSWORD }, proxy.url).replace(/^NTLM /, ''), 'base64');
    const ntOffset = type3.readUInt32LE(24);
    type3[ntOffset] = type3[ntOffset]! ^ 0x01; // the first byte of the NTProofStr
    connect(`NTLM ${type3.toString('base64')}`);
    expect(await nextAnswer()).toMatch(/^HTTP\/1\.1 407 /);
    socket.destroy();
    expect(since(start)).toContain('refused NTProofStr mismatch for CORP\\alice (wrong password)');
  });

  it('--proxy-auth basic does send Basic up front (so the "no Basic" checks above can fail)', async () => {
    const start = proxy.events().length;
    const result = await runBurrow(['connect', '--proxy-auth', 'basic', '-x', url(PASSWORD), '127.0.0.1', String(echo.port)], { input: '', env: env() });
    expect(result.code).toBe(4);
    expect(since(start)[0]).toMatch(/scheme=Basic$/);
  });
});
