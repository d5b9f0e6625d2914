// Every credential burrow learns is registered here the moment it is parsed, so that the logger can mask it in
// any line it writes, whatever field or message it ended up in. A registry, not a regex: a password has no shape.

const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 3) return; // masking "a" or "ab" would shred ordinary text
  secrets.add(value);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) secrets.add(encoded);
}

/** Replaces every registered secret, and any URL userinfo, with "***". */
export function maskSecrets(text: string): string {
  let masked = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
  for (const secret of secrets) {
    if (masked.includes(secret)) masked = masked.split(secret).join('***');
  }
  return masked;
}
