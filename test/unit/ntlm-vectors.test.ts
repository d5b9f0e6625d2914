// burrow's NTLMv2 answer checked against the worked example of MS-NLMP §4.2.4 (NTLMv2 authentication): user "User",
// domain "Domain", password "Password", server challenge 0123456789abcdef, client challenge aa…aa, time 0, and the
// specification's CHALLENGE_MESSAGE (§4.2.4.3). The expected values are the specification's (§4.2.4.1.1 NTOWFv2,
// §4.2.4.2.1 LMv2 response, §4.2.4.2.2 NTProofStr); the interop suite checks the same code against impacket.
import { describe, expect, it } from 'vitest';
import { ntlmAuthenticate } from '../../src/dial/auth/ntlm.ts';

const CHALLENGE_MESSAGE = Buffer.from(
  '4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f' +
    '53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000',
  'hex',
);
const SERVER_NAME = Buffer.from('02000c0044006f006d00610069006e0001000c005300650072007600650072000000' + '0000', 'hex');
const CLIENT_CHALLENGE = Buffer.alloc(8, 0xaa);
/** FILETIME 0 (1601-01-01), as milliseconds since 1970. */
const TIME_ZERO_MS = -11_644_473_600_000;

function authenticate(password: string): { lm: Buffer; nt: Buffer; flags: number } {
  const header = ntlmAuthenticate(CHALLENGE_MESSAGE.toString('base64'), { username: 'Domain\\User', password }, 'http://proxy:3128', {
    clientChallenge: CLIENT_CHALLENGE,
    nowMs: TIME_ZERO_MS,
  });
  const message = Buffer.from(header.replace(/^NTLM /, ''), 'base64');
  const field = (at: number) => message.subarray(message.readUInt32LE(at + 4), message.readUInt32LE(at + 4) + message.readUInt16LE(at));
  expect(message.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
  expect(message.readUInt32LE(8)).toBe(3);
  return { lm: field(12), nt: field(20), flags: message.readUInt32LE(60) };
}

describe('NTLMv2 against MS-NLMP §4.2.4', () => {
  it('gives the specification\'s LMv2 response and NTProofStr, and the blob the proof covers', () => {
    const { lm, nt } = authenticate('Password');
    expect(lm.toString('hex')).toBe('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
    expect(nt.subarray(0, 16).toString('hex')).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    // The blob (temp, §3.3.2): versions 1 1, six zero bytes, time, client challenge, four zero bytes, the server's
    // AV pairs, four zero bytes.
    const temp = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), Buffer.alloc(8), CLIENT_CHALLENGE, Buffer.alloc(4), SERVER_NAME, Buffer.alloc(4)]);
    expect(nt.subarray(16).toString('hex')).toBe(temp.toString('hex'));
  });

  it('a wrong password gives another proof (the check above can fail)', () => {
    const { lm, nt } = authenticate('Passw0rd');
    expect(nt.subarray(0, 16).toString('hex')).not.toBe('68cd0ab851e51c96aabc927bebef6a1c');
    expect(lm.subarray(0, 16).toString('hex')).not.toBe('86c35097ac9cec102554764a57cccc19');
  });

  it('without a fixed client challenge, each answer has a fresh one (from the CSPRNG, not Math.random)', () => {
    const a = ntlmAuthenticate(CHALLENGE_MESSAGE.toString('base64'), { username: 'Domain\\User', password: 'Password' }, 'http://proxy:3128');
    const b = ntlmAuthenticate(CHALLENGE_MESSAGE.toString('base64'), { username: 'Domain\\User', password: 'Password' }, 'http://proxy:3128');
    const lmOf = (h: string) => {
      const m = Buffer.from(h.replace(/^NTLM /, ''), 'base64');
      return m.subarray(m.readUInt32LE(16), m.readUInt32LE(16) + 24);
    };
    expect(lmOf(a).subarray(16).equals(lmOf(b).subarray(16))).toBe(false);
    const random = Math.random;
    Math.random = () => 0; // a library that used Math.random would now give the same client challenge twice
    try {
      const c = ntlmAuthenticate(CHALLENGE_MESSAGE.toString('base64'), { username: 'Domain\\User', password: 'Password' }, 'http://proxy:3128');
      const d = ntlmAuthenticate(CHALLENGE_MESSAGE.toString('base64'), { username: 'Domain\\User', password: 'Password' }, 'http://proxy:3128');
      expect(lmOf(c).subarray(16).equals(lmOf(d).subarray(16))).toBe(false);
    } finally {
      Math.random = random;
    }
  });
});
