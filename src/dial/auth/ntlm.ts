import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { BurrowError } from '../../errors.ts';
import { requireNtlmClient } from '../../runtime/packages.ts';

// NTLM through @ewsjs/ntlm-client (pure JS; NTLMv2 when the proxy's type-2 message offers it). Loaded only when a
// proxy asks for NTLM. Users write "DOMAIN\user" (or "user@domain.example", which NTLM passes through as is).

interface NtlmModule {
  createType1Message(workstation?: string, target?: string): string;
  decodeType2Message(header: string): unknown;
  createType3Message(type2: unknown, username: string, password: string, workstation?: string, target?: string): string;
}

let ntlmModule: NtlmModule | undefined;
function load(): NtlmModule {
  ntlmModule ??= requireNtlmClient() as NtlmModule;
  return ntlmModule;
}

export function splitDomainUser(username: string): { domain: string; user: string } {
  const slash = username.indexOf('\\');
  return slash >= 0 ? { domain: username.slice(0, slash), user: username.slice(slash + 1) } : { domain: '', user: username };
}

const workstation = () => hostname().split('.')[0]!.toUpperCase();

/** The type-1 (negotiate) message, as a Proxy-Authorization value. */
export function ntlmNegotiate(username: string): string {
  return load().createType1Message(workstation(), splitDomainUser(username).domain);
}

/** For the MS-NLMP test vectors only: a fixed client challenge and clock. */
export interface NtlmFixedInputs {
  clientChallenge: Buffer;
  nowMs: number;
}

/** The type-3 (authenticate) message answering the proxy's type-2 challenge token. */
export function ntlmAuthenticate(challengeToken: string, credentials: { username: string; password: string }, proxyLabel: string, fixed?: NtlmFixedInputs): string {
  const ntlm = load();
  const { domain, user } = splitDomainUser(credentials.username);
  try {
    const type2 = ntlm.decodeType2Message(`NTLM ${normalizeType2(Buffer.from(challengeToken, 'base64')).toString('base64')}`);
    return withClientChallenge(fixed?.clientChallenge ?? randomBytes(8), fixed?.nowMs, () =>
      ntlm.createType3Message(type2, user, credentials.password, workstation(), domain || undefined),
    );
  } catch (error) {
    throw new BurrowError('auth', `NTLM with the proxy ${proxyLabel} failed: ${(error as Error).message}`, {
      proxy: proxyLabel,
      said: (error as Error).message,
      hint: 'try --proxy-auth basic if the proxy also offers Basic',
    });
  }
}

/**
 * Runs `make` with the library's randomness and clock pinned. The library draws NTLMv2's 8-byte client challenge
 * from Math.random (16 calls, one hex digit each), which is not a cryptographic generator: here each call returns
 * the next digit of `challenge` (from crypto.randomBytes, or the test vector's). `nowMs` pins Date.now for the
 * blob's timestamp (test vectors only). Both are restored before returning; `make` is synchronous, so no other code
 * runs in between.
 */
function withClientChallenge<T>(challenge: Buffer, nowMs: number | undefined, make: () => T): T {
  const digits = challenge.toString('hex');
  let next = 0;
  const random = Math.random;
  const now = Date.now;
  Math.random = () => (Number.parseInt(digits[next++ % digits.length]!, 16) + 0.5) / 16;
  if (nowMs !== undefined) Date.now = () => nowMs;
  try {
    return make();
  } finally {
    Math.random = random;
    Date.now = now;
  }
}

const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');
const NEGOTIATE_NTLM2_KEY = 0x00080000;
const NEGOTIATE_TARGET_INFO = 0x00800000;

/**
 * Rebuilds a type-2 message into the layout the library reads safely. Real proxies send sloppy ones: squid's
 * ntlm_fake_auth writes a garbage target-name offset and no target info, which the library rejects ("Bad type 2
 * message") or crashes on. burrow always answers with NTLMv2 (the library's v1 path is broken, and v1 is weak):
 * the NTLM2 flag is set and an empty target-info list stands in when the proxy sent none.
 */
export function normalizeType2(message: Buffer): Buffer {
  if (message.length < 32 || !message.subarray(0, 8).equals(NTLMSSP) || message.readUInt32LE(8) !== 2) {
    throw new Error('the proxy sent something that is not an NTLM challenge (type 2) message');
  }
  const flags = message.readUInt32LE(20);
  const challenge = message.subarray(24, 32);
  const slice = (lengthAt: number, offsetAt: number): Buffer | undefined => {
    if (message.length < offsetAt + 4) return undefined;
    const length = message.readUInt16LE(lengthAt);
    const offset = message.readUInt32LE(offsetAt);
    if (length === 0) return Buffer.alloc(0);
    return offset >= 32 && offset + length <= message.length ? message.subarray(offset, offset + length) : undefined;
  };
  const declaredNameLength = message.readUInt16LE(12);
  // A bad offset with a name that fits: squid's helper puts the name at the very end.
  const name = slice(12, 16) ?? (declaredNameLength <= message.length - 32 ? message.subarray(message.length - declaredNameLength) : Buffer.alloc(0));
  const info = (flags & NEGOTIATE_TARGET_INFO && message.length >= 48 ? slice(40, 44) : undefined) ?? Buffer.alloc(4); // MsvAvEOL
  const out = Buffer.alloc(48 + name.length + info.length);
  NTLMSSP.copy(out, 0);
  out.writeUInt32LE(2, 8);
  out.writeUInt16LE(name.length, 12);
  out.writeUInt16LE(name.length, 14);
  out.writeUInt32LE(48, 16);
  out.writeUInt32LE((flags | NEGOTIATE_NTLM2_KEY | NEGOTIATE_TARGET_INFO) >>> 0, 20);
  challenge.copy(out, 24);
  out.writeUInt16LE(info.length, 40);
  out.writeUInt16LE(info.length, 42);
  out.writeUInt32LE(48 + name.length, 44);
  name.copy(out, 48);
  info.copy(out, 48 + name.length);
  return out;
}
