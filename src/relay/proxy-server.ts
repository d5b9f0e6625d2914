import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { BurrowError } from '../errors.ts';
import { formatTarget } from '../route/target.ts';
import { registerSecret } from '../secrets.ts';
import type { Connection } from '../dial/dial.ts';
import { createByteReader, ReadError, type ByteReader } from './byte-reader.ts';
import { serveHttp } from './http-proxy-server.ts';
import { errorResponse } from './http-proxy-request.ts';
import { openTunnel, startListener, type ConnectionRecord, type RunningListener } from './listener.ts';
import { endWith, relay, type ProxyServerOptions, type Served } from './serve.ts';
import { socks4Reply, socksHandshake, type Credentials } from './socks-server.ts';

// The local proxies of `burrow forward -D` (SOCKS5, SOCKS4/4a) and `--http` (CONNECT and absolute-form plain
// HTTP). Each request is routed on its own (resolveRoute + dial), so NO_PROXY, chains and PAC rules apply per
// target. A listener may speak both protocols (told apart by the first byte): `burrow exec` can start one in-process
// on 127.0.0.1:0 with randomCredentials() and point HTTPS_PROXY and ALL_PROXY at it.

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** A random user and password for a per-run bridge proxy (`burrow exec`), registered as secrets. */
export function randomCredentials(): Credentials {
  const credentials = { user: 'burrow', password: randomBytes(18).toString('base64url') };
  registerSecret(credentials.password);
  return credentials;
}

export function startProxyServer(options: ProxyServerOptions): Promise<RunningListener> {
  if (options.auth) registerSecret(options.auth.password);
  const checkCredentials = credentialChecker(options.auth);
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  return startListener({
    name: options.name,
    listen: options.listen,
    log: options.log,
    limits: options.limits,
    handle: async (socket, record) => {
      const reader = createByteReader(socket, timeoutMs);
      const clientAllowed = record.clientIsLoopback || options.auth !== undefined;
      try {
        const first = await reader.peek();
        const isSocks = first === 0x04 || first === 0x05;
        if (isSocks && options.protocols.includes('socks')) {
          record.protocol = first === 0x05 ? 'socks5' : 'socks4';
          await serveSocks(socket, reader, record, { ...options, clientAllowed, checkCredentials });
        } else if (!isSocks && options.protocols.includes('http')) {
          record.protocol = 'http';
          await serveHttp(socket, reader, record, { ...options, clientAllowed, checkCredentials });
        } else {
          reader.release();
          record.failure = { reason: `not a ${options.protocols.join(' or ')} request (first byte 0x${first.toString(16).padStart(2, '0')})` };
          if (!isSocks && options.protocols.includes('socks')) {
            // Someone pointed an HTTP client at the SOCKS port: say so in their language.
            await endWith(socket, errorResponse(400, `burrow: this port (${options.name}) is a SOCKS proxy, not an HTTP proxy`));
          }
        }
      } catch (error) {
        reader.release();
        if (error instanceof ReadError) record.failure ??= { reason: `bad request: ${error.message}` };
        else throw error;
      }
    },
  });
}

async function serveSocks(socket: Socket, reader: ByteReader, record: ConnectionRecord, options: Served): Promise<void> {
  let outcome;
  try {
    outcome = await socksHandshake(reader, (data) => socket.write(data), {
      ...(options.auth ? { auth: options.auth } : {}),
      clientAllowed: options.clientAllowed,
      checkCredentials: options.checkCredentials,
    });
  } catch (error) {
    // A SOCKS4 user id or host name without its NUL: a request we will not read to the end. Say no.
    if (error instanceof ReadError && error.reason === 'too-long' && record.protocol === 'socks4') {
      reader.release();
      record.failure = { reason: `bad request: SOCKS4 ${error.message}` };
      await endWith(socket, socks4Reply(false));
      return;
    }
    throw error;
  }
  if (outcome.kind === 'refused') {
    reader.release();
    record.failure = { reason: outcome.reason };
    if (outcome.reply) await endWith(socket, outcome.reply);
    return;
  }
  record.target = formatTarget(outcome.target);
  let connection: Connection;
  try {
    connection = await openTunnel(options.router, outcome.target, record);
  } catch (error) {
    reader.release();
    await endWith(socket, outcome.reply(error as BurrowError));
    return;
  }
  const { rest, ended } = reader.release();
  socket.write(outcome.reply());
  await relay(socket, connection, rest, ended, record, options);
}

function credentialChecker(auth: Credentials | undefined): (user: string, password: string) => boolean {
  if (!auth) return () => true;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  const expectedUser = digest(auth.user);
  const expectedPassword = digest(auth.password);
  return (user, password) => {
    // Both compared, in constant time, whatever the first answer.
    const userOk = timingSafeEqual(digest(user), expectedUser);
    const passwordOk = timingSafeEqual(digest(password), expectedPassword);
    return userOk && passwordOk;
  };
}
