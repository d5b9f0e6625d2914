import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DnsJson } from '../types.ts';

/** What this machine's resolver says about `host` (the proxy may know more: socks5h:// and HTTP proxies resolve themselves). */
export async function probeDns(host: string, signal: AbortSignal): Promise<DnsJson> {
  if (isIP(host)) return { status: 'literal', addresses: [host], error: null };
  // dns.lookup cannot be cancelled; the caller's deadline stops the wait (see bounded()).
  try {
    const results = await lookup(host, { all: true, verbatim: true });
    return { status: 'ok', addresses: results.map((r) => r.address), error: null };
  } catch (error) {
    if (signal.aborted) return { status: 'timeout', addresses: [], error: 'timeout' };
    return { status: 'failed', addresses: [], error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}
