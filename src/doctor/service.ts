import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Target } from '../route/target.ts';
import type { Environment } from '../route/environment.ts';
import { probeTeleportPing } from '../teleport/ping-answer.ts';
import { trustStore } from '../trust/trust-store.ts';
import { bounded, ProbeStopped } from './bounded.ts';
import { checkKnownHosts, fingerprint, knownKeyTypes, parseKnownHosts, type KnownHostsEntry } from './known-hosts.ts';
import { firstLine, readFirstBytes } from './probes/first-bytes.ts';
import { probeSshHostKey } from './probes/ssh.ts';
import { probeTls, type TlsProbeResult } from './probes/tls.ts';
import type { ServiceJson } from './types.ts';

// What answers at the end of an open tunnel: an SSH server (banner, host key, known_hosts), a TLS server
// (certificate) and, behind TLS, a Teleport proxy (/webapi/ping). Each step bounded like every probe (run.ts).

// Ports where the client speaks first with TLS: no point waiting for a banner.
const TLS_PORTS = new Set([443, 465, 636, 853, 990, 992, 993, 995, 3080, 6443, 8443]);
const BANNER_WAIT_MS = 2000;

export async function probeService(stream: Duplex, target: Target, knownHosts: KnownHosts, input: { probeTimeoutMs: number; extraCa?: string; env?: Environment }, runSignal: AbortSignal): Promise<ServiceJson> {
  const service: ServiceJson = { protocol: 'silent', first_line: null, ssh: null, tls: null, teleport: null };
  const limit = input.probeTimeoutMs;
  if (!TLS_PORTS.has(target.port)) {
    const first = await bounded((signal) => readFirstBytes(stream, Math.min(BANNER_WAIT_MS, Math.floor(limit / 2)), signal), limit, runSignal);
    if (first.kind === 'closed') {
      service.protocol = 'closed';
      return service;
    }
    if (first.kind === 'data') {
      const line = firstLine(first.bytes);
      if (!line.startsWith('SSH-')) {
        service.protocol = 'other';
        service.first_line = line;
        return service;
      }
      service.protocol = 'ssh';
      service.ssh = { banner: line, host_key: null, known_hosts: null, error: null };
      const known = knownKeyTypes(knownHosts.entries, target.host, target.port);
      try {
        const key = await bounded((signal) => probeSshHostKey(stream, known, limit, signal), limit, runSignal);
        service.ssh.host_key = { type: key.type, fingerprint: fingerprint(key.blob) };
        service.ssh.known_hosts = knownHosts.error
          ? { status: 'unreadable', file: knownHosts.file, line: null, known_fingerprints: [] }
          : checkKnownHosts(knownHosts.entries, knownHosts.file, target.host, target.port, key);
      } catch (error) {
        if (error instanceof ProbeStopped && error.reason === 'cancelled') throw error;
        service.ssh.error = error instanceof Error ? error.message : String(error);
      }
      return service;
    }
  }
  // Nothing spoke first (or a TLS port): try a TLS handshake on the same tunnel.
  const tls: TlsProbeResult = await bounded((signal) => probeTls(stream, target.host, trustStore(input.env ?? process.env, input.extraCa), signal), limit, runSignal).catch((error: unknown) => {
    if (error instanceof ProbeStopped && error.reason === 'timeout') return { json: { certificate: null, protocol: null, alpn: null, error: 'no TLS handshake in time' } };
    throw error;
  });
  if (!tls.socket) {
    service.protocol = 'silent';
    service.tls = tls.json;
    return service;
  }
  service.protocol = 'tls';
  service.tls = tls.json;
  const socket = tls.socket;
  try {
    service.teleport = await bounded((signal) => probeTeleportPing(socket, target.host, target.port, signal), limit, runSignal).catch((error: unknown) => {
      if (error instanceof ProbeStopped && error.reason === 'timeout') return null;
      throw error;
    });
  } finally {
    socket.destroy();
  }
  return service;
}

export interface KnownHosts {
  file: string;
  entries: KnownHostsEntry[];
  error: string | null;
}

export function loadKnownHosts(file: string): KnownHosts {
  try {
    return { file, entries: parseKnownHosts(readFileSync(file, 'utf8')), error: null };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No file is the same as an empty one to ssh.
    if (code === 'ENOENT') return { file, entries: [], error: null };
    return { file, entries: [], error: code ?? String(error) };
  }
}
