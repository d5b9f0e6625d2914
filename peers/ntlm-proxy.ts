// An NTLM-only CONNECT proxy that verifies NTLMv2 responses with impacket (peers/ntlm-proxy.py): an independent
// check of burrow's NTLM, which squid's ntlm_fake_auth (any password accepted) cannot give. Needs Debian's python3
// and python3-impacket (.ci/install-peers.sh); Debian's own /usr/bin/python3 is preferred, as a python3 earlier on
// PATH (pyenv) does not see Debian's modules.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findBinary } from './binaries.ts';
import { makeTempDir, startDaemon, withFreePort, type Peer } from './daemon.ts';
import { cleanEnv } from './env.ts';
import { LOOPBACK } from './net.ts';

const SCRIPT = fileURLToPath(new URL('./ntlm-proxy.py', import.meta.url));

export interface NtlmProxyOptions {
  user: string;
  domain: string;
  password: string;
  readyTimeoutMs?: number;
}

export interface NtlmProxyPeer extends Peer {
  /** One line per request ("request N scheme=none|Basic|NTLM1|NTLM3") and per verdict ("verified …", "refused …"). */
  events(): string[];
}

/** The python3 that has impacket, or undefined (the reason to print is in whyNoImpacket()). */
export function impacketPython(): string | undefined {
  for (const candidate of ['/usr/bin/python3', findBinary('python3')]) {
    if (candidate && existsSync(candidate) && spawnSync(candidate, ['-c', 'import impacket.ntlm'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

export async function startNtlmProxy(options: NtlmProxyOptions): Promise<NtlmProxyPeer> {
  const python = impacketPython();
  if (!python) throw new Error('peers: python3 with impacket is not installed (Debian package python3-impacket; run .ci/install-peers.sh)');
  return await withFreePort(async (port) => {
    const dir = makeTempDir('ntlm-proxy');
    const peer = await startDaemon({
      name: 'ntlm-proxy',
      argv: [python, SCRIPT, String(port)],
      dir,
      port,
      url: `http://${LOOPBACK}:${port}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
      env: cleanEnv({ NTLM_USER: options.user, NTLM_DOMAIN: options.domain, NTLM_PASSWORD: options.password, PYTHONDONTWRITEBYTECODE: '1' }),
    });
    const out = `${dir}/ntlm-proxy.out`;
    return { ...peer, events: () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l && !l.startsWith('listening')) : []) };
  });
}
