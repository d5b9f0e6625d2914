import type { TLSSocket } from 'node:tls';
import { formatHostPort, parseHostPort } from '../route/target.ts';
import { takeBody } from '../dial/http-framing.ts';

// Teleport's /webapi/ping (REFERENCE.md §1): the request over an open TLS session and the parser of its answer.
// Shared by `burrow tsh`'s SSH-port check (ping.ts, through the route) and `burrow doctor` (on a probe's tunnel).

/** What a ping answer says, as doctor's JSON report shows it. */
export interface TeleportJson {
  cluster_name: string | null;
  server_version: string | null;
  min_client_version: string | null;
  tls_routing_enabled: boolean;
  /** Where tsh sends SSH: the web address with TLS routing, else proxy.ssh's public address or listen address. */
  ssh_address: string | null;
  web_address: string | null;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * GET /webapi/ping over an open TLS session to the target (REFERENCE.md §1): a Teleport proxy answers with its
 * cluster name, version, whether TLS routing is on and where SSH goes. Anything else answers something else, and
 * the result is null. HTTP/1.0 so the answer ends with the connection; no credentials are sent.
 */
export function probeTeleportPing(socket: TLSSocket, host: string, port: number, signal: AbortSignal): Promise<TeleportJson | null> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', finish);
      socket.off('data', onData);
      socket.destroy();
      resolve(parsePingResponse(received, host, port));
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= MAX_RESPONSE_BYTES) finish();
    };
    signal.addEventListener('abort', finish, { once: true });
    socket.on('data', onData);
    socket.once('end', finish);
    socket.once('close', finish);
    socket.write(`GET /webapi/ping HTTP/1.0\r\nHost: ${formatHostPort(host, port)}\r\nAccept: application/json\r\nUser-Agent: burrow-doctor\r\nConnection: close\r\n\r\n`);
    socket.resume();
  });
}

/** Pure: the raw HTTP answer in, Teleport's facts out (or null when it is not a Teleport ping answer). */
export function parsePingResponse(raw: Buffer, host: string, port: number): TeleportJson | null {
  const text = raw.toString('utf8');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0 || !/^HTTP\/1\.[01] 200\b/.test(text)) return null;
  const head = text.slice(0, headEnd);
  let body = text.slice(headEnd + 4);
  if (/^transfer-encoding:\s*chunked/im.test(head)) body = dechunk(body);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  return teleportFromPing(json, host, port);
}

/** The data of a chunked body (the one decoder, dial/http-framing.ts); what follows a broken framing is dropped. */
function dechunk(body: string): string {
  const data: Buffer[] = [];
  takeBody({ kind: 'chunk-size', line: '' }, Buffer.from(body, 'utf8'), (part) => data.push(part));
  return Buffer.concat(data).toString('utf8');
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const asString = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function teleportFromPing(json: unknown, host: string, port: number): TeleportJson | null {
  const root = asObject(json);
  const proxy = asObject(root?.proxy);
  if (!root || !proxy || (root.server_version === undefined && root.cluster_name === undefined)) return null;
  const ssh = asObject(proxy.ssh) ?? {};
  const tlsRouting = proxy.tls_routing_enabled === true;
  const web = asString(ssh.public_addr) ?? formatHostPort(host, port);
  let sshAddress: string | null;
  if (tlsRouting) sshAddress = web;
  else sshAddress = withHost(asString(ssh.ssh_public_addr) ?? asString(ssh.listen_addr), host, 3023);
  return {
    cluster_name: asString(root.cluster_name),
    server_version: asString(root.server_version),
    min_client_version: asString(root.min_client_version),
    tls_routing_enabled: tlsRouting,
    ssh_address: sshAddress,
    web_address: web,
  };
}

/** "0.0.0.0:3023" means "this host, port 3023"; a public address without a port takes Teleport's default. */
function withHost(address: string | null, host: string, defaultPort: number): string | null {
  if (!address) return null;
  const first = address.split(',')[0]!.trim();
  // The answer comes from the network (and the ping is not certificate-checked): validate it like any target.
  try {
    // ":3023" (no host) means this host too.
    const target = parseHostPort(first.startsWith(':') && !first.startsWith('::') ? `0.0.0.0${first}` : first, defaultPort);
    const unspecified = target.host === '0.0.0.0' || target.host === '::';
    return formatHostPort(unspecified ? host : target.host, target.port);
  } catch {
    return null;
  }
}
