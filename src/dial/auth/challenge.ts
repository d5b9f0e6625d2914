// Proxy-Authenticate parsing (RFC 9110 §11.6.1): one header may carry several challenges separated by commas, each
// a scheme followed by either a token68 ("NTLM TlRMTVNT...") or auth-params (realm="corp", nonce="..."). Proxies
// also send one header per challenge; both forms end up as one flat list here.

export interface Challenge {
  /** As sent, e.g. "Negotiate", "NTLM", "Digest", "Basic". Compare with `schemeIs`. */
  scheme: string;
  /** The token68 form: NTLM's type-2 message, a Negotiate continuation. */
  token?: string;
  /** auth-params, names lower-cased. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

export function parseChallenges(headerValues: string[]): Challenge[] {
  const challenges: Challenge[] = [];
  for (const value of headerValues) {
    let rest = value.trim();
    let current: Challenge | undefined;
    while (rest.length > 0) {
      rest = rest.replace(/^[\s,]+/, '');
      const token = TOKEN.exec(rest)?.[0];
      if (!token) break; // unparseable remainder: keep what we have
      const after = rest.slice(token.length);
      const param = /^\s*=\s*/.exec(after);
      if (current && param) {
        // name=value or name="quoted value" belongs to the current challenge
        let valueText = after.slice(param[0].length);
        let paramValue: string;
        if (valueText.startsWith('"')) {
          let i = 1;
          paramValue = '';
          while (i < valueText.length && valueText[i] !== '"') {
            if (valueText[i] === '\\' && i + 1 < valueText.length) i++;
            paramValue += valueText[i];
            i++;
          }
          valueText = valueText.slice(i + 1);
        } else {
          const plain = /^[^,\s]*/.exec(valueText)![0];
          paramValue = plain;
          valueText = valueText.slice(plain.length);
        }
        current.params[token.toLowerCase()] = paramValue;
        rest = valueText;
        continue;
      }
      current = { scheme: token, params: {} };
      challenges.push(current);
      rest = after.replace(/^[ \t]+/, '');
      // token68: base64-ish run not followed by "=" introducing a parameter
      const token68 = /^([A-Za-z0-9\-._~+/]+=*)(?=\s*(,|$))/.exec(rest);
      if (token68 && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=[^=]/.test(rest)) {
        current.token = token68[1];
        rest = rest.slice(token68[1]!.length);
      }
    }
  }
  return challenges;
}

export function schemeIs(challenge: Challenge, scheme: string): boolean {
  return challenge.scheme.toLowerCase() === scheme.toLowerCase();
}

/** Digest challenges burrow can answer: MD5 or SHA-256 (plain or -sess), qop "auth" or none. */
export function supportsDigest(challenge: Challenge): boolean {
  const algorithm = (challenge.params.algorithm ?? 'MD5').toLowerCase();
  const qop = challenge.params.qop;
  return challenge.params.nonce !== undefined && ['md5', 'md5-sess', 'sha-256', 'sha-256-sess'].includes(algorithm) && (qop === undefined || qop.split(',').some((q) => q.trim() === 'auth'));
}
