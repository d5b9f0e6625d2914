// Apache's MD5-crypt password hash, for squid's basic_ncsa_auth password file (no openssl or htpasswd needed).
import { createHash, randomBytes } from 'node:crypto';

/** APR1 (Apache's MD5-crypt) hash, which squid's basic_ncsa_auth accepts: `$apr1$salt$hash`. */
export function apr1(password: string, salt = randomBytes(6).toString('base64').replace(/[^A-Za-z0-9./]/g, '.').slice(0, 8)): string {
  const magic = '$apr1$';
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 8), 'utf8');
  const md5 = (...parts: Buffer[]): Buffer => {
    const h = createHash('md5');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  let alt = md5(pw, s, pw);
  const ctx = createHash('md5');
  ctx.update(pw);
  ctx.update(magic);
  ctx.update(s);
  for (let n = pw.length; n > 0; n -= 16) ctx.update(alt.subarray(0, Math.min(n, 16)));
  for (let i = pw.length; i > 0; i >>= 1) ctx.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash('md5');
    c.update(i & 1 ? pw : final);
    if (i % 3) c.update(s);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? final : pw);
    final = c.digest();
  }
  alt = final;
  const itoa64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const to64 = (value: number, count: number): string => {
    let out = '';
    for (let i = 0; i < count; i++) {
      out += itoa64[value & 0x3f];
      value >>= 6;
    }
    return out;
  };
  const f = alt;
  const b = (i: number): number => f[i]!;
  const encoded =
    to64((b(0) << 16) | (b(6) << 8) | b(12), 4) +
    to64((b(1) << 16) | (b(7) << 8) | b(13), 4) +
    to64((b(2) << 16) | (b(8) << 8) | b(14), 4) +
    to64((b(3) << 16) | (b(9) << 8) | b(15), 4) +
    to64((b(4) << 16) | (b(10) << 8) | b(5), 4) +
    to64(b(11), 2);
  return `${magic}${salt.slice(0, 8)}$${encoded}`;
}
