import { BurrowError } from '../../errors.ts';
import { displayProxy, type ProxyEndpoint } from '../../route/proxy-url.ts';
import { registerSecret } from '../../secrets.ts';
import { parseChallenges, schemeIs, supportsDigest, type Challenge } from './challenge.ts';
import type { NegotiateSession } from './negotiate.ts';

// Each scheme's module is imported when a proxy first asks for it: the ProxyCommand's common case (no auth, or
// Basic) loads neither node:crypto nor the NTLM library nor node:tty.

// The 407 conversation with one HTTP proxy (REFERENCE.md §3): read every Proxy-Authenticate, pick the strongest
// scheme burrow can do (Negotiate > NTLM > Digest > Basic, or the one --proxy-auth names), answer each leg, and
// give up with a message naming what was offered and what was tried instead of looping.

export const AUTH_SCHEMES = ['negotiate', 'ntlm', 'digest', 'basic'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];
const DISPLAY: Record<AuthScheme, string> = { negotiate: 'Negotiate', ntlm: 'NTLM', digest: 'Digest', basic: 'Basic' };

export interface AuthOptions {
  /** --proxy-auth: use only this scheme. */
  scheme?: AuthScheme;
  /** Ask on /dev/tty when credentials are missing or rejected (default true). */
  prompt?: boolean;
  /** Pauses the dial's deadline while a person types. */
  pauseClock?: () => () => void;
  /** The request Digest signs, when not CONNECT to the target (a plain-HTTP request forwarded to the proxy). */
  request?: { method: string; uri: string };
  /** Where the per-user memory of proxies that asked for Basic, and of rejected credentials, lives (XDG_CACHE_HOME, HOME); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** --fresh: send credentials even when the proxy rejected them recently. */
  fresh?: boolean;
}

export interface NextLeg {
  /** The Proxy-Authorization value for the next request. */
  header: string;
  /** True when the next request must go on the same connection (NTLM type 3, a Negotiate continuation). */
  sameConnection: boolean;
}

export interface AuthSession {
  /**
   * The header to send with the first request, if any: Basic only when the user chose it (--proxy-auth basic) or this
   * proxy asked for Basic in an earlier run; otherwise nothing, and the proxy's 407 decides.
   */
  initial(): Promise<string | undefined>;
  /** Answers a 407; throws a BurrowError (kind 'auth') when nothing more can be tried. */
  respond(proxyAuthenticate: string[], statusLine: string): Promise<NextLeg>;
  /** True when the leg just prepared only asks for the proxy's challenge (NTLM's first message): it cannot succeed. */
  awaitingChallenge(): boolean;
  /** The scheme of the last header handed out (undefined: none was sent). */
  lastScheme(): AuthScheme | undefined;
  /** The proxy accepted the request: a Basic it asked for is remembered; credentials it had rejected are forgotten. */
  accepted(): Promise<void>;
}

export function createAuthSession(proxy: ProxyEndpoint, target: string, options: AuthOptions = {}): AuthSession {
  const label = displayProxy(proxy);
  let credentials = proxy.username !== undefined || proxy.password !== undefined ? { username: proxy.username ?? '', password: proxy.password ?? '' } : undefined;
  const tried: AuthScheme[] = [];
  let current: AuthScheme | undefined;
  let negotiate: NegotiateSession | undefined;
  let prompted = false;
  let rounds = 0;
  const unavailable: string[] = [];
  const env = options.env ?? process.env;
  /** Basic went with the first request because an earlier run's 407 asked for it (not because the user chose it). */
  let basicFromMemory = false;
  /** Basic was chosen from this run's 407 (the proxy asked for it). */
  let basicAsked = false;
  // Credentials from the URL, netrc or variables are checked against the memory of rejected ones once, before they
  // are first sent; typed ones are the user's fresh answer and are not.
  let checked = false;
  let heldBack = false;

  /** Throws (or prompts for new credentials) when the proxy rejected these credentials in an earlier run. */
  const checkRejected = async (): Promise<void> => {
    if (checked || !credentials || prompted) return;
    checked = true;
    const memory = await import('../../credentials/rejected.ts');
    const at = memory.rejectedAt(env, label, credentials);
    if (at === undefined) return;
    heldBack = true;
    if (options.fresh) return;
    if (options.prompt !== false) {
      prompted = true;
      const resume = options.pauseClock?.();
      try {
        const { promptCredentials } = await import('../../credentials/prompt.ts');
        const typed = await promptCredentials(label, credentials.username, `the proxy ${label} rejected this password for ${credentials.username} earlier; burrow will not send it again for a while (account lockout)`);
        if (typed) {
          registerSecret(typed.password);
          credentials = typed;
          return;
        }
      } finally {
        resume?.();
      }
    }
    throw memory.heldBackError(label, target, credentials.username, at);
  };

  const fail = (offered: Challenge[], statusLine: string, why: string, hint: string): BurrowError =>
    new BurrowError('auth', `the proxy ${label} refused CONNECT ${target}: "${statusLine}"; ${why} (offered: ${offered.map((c) => c.scheme).join(', ') || 'no scheme'}; tried: ${tried.map((s) => DISPLAY[s]).join(', ') || 'none'})`, {
      proxy: label,
      target,
      said: statusLine,
      phase: 'proxy-auth',
      auth: { offered: offered.map((c) => c.scheme), tried: tried.map((s) => DISPLAY[s]) },
      hint,
    });

  const firstLeg = async (scheme: AuthScheme, challenge: Challenge | undefined): Promise<NextLeg> => {
    current = scheme;
    if (!tried.includes(scheme)) tried.push(scheme);
    switch (scheme) {
      case 'negotiate': {
        const { startNegotiate } = await import('./negotiate.ts');
        negotiate = await startNegotiate(proxy.host);
        return { header: await negotiate.step(''), sameConnection: false };
      }
      case 'ntlm': {
        const { ntlmNegotiate } = await import('./ntlm.ts');
        return { header: ntlmNegotiate(credentials!.username), sameConnection: false };
      }
      case 'digest': {
        const { digestAuthorization } = await import('./digest.ts');
        return { header: registered(digestAuthorization(challenge!, credentials!, options.request?.method ?? 'CONNECT', options.request?.uri ?? target)), sameConnection: false };
      }
      case 'basic':
        return { header: basicHeader(credentials!), sameConnection: false };
    }
  };

  const needsCredentials = (scheme: AuthScheme) => scheme !== 'negotiate';

  return {
    awaitingChallenge: () => current === 'ntlm',
    lastScheme: () => tried[tried.length - 1],
    async initial() {
      if (options.scheme === 'negotiate') {
        try {
          return (await firstLeg('negotiate', undefined)).header;
        } catch (error) {
          // --proxy-auth negotiate with no ticket or no kerberos module: an authentication failure (exit 4), not a bug.
          if (!isNegotiateUnavailable(error)) throw error;
          throw new BurrowError('auth', `cannot authenticate to the proxy ${label} for CONNECT ${target} with Negotiate (--proxy-auth negotiate): ${error.message}`, {
            proxy: label,
            target,
            phase: 'proxy-auth',
            auth: { offered: [], tried: [DISPLAY.negotiate] },
            hint: 'burrow needs the optional kerberos package (built with libkrb5-dev) and a ticket (kinit); without --proxy-auth the proxy\'s 407 chooses the scheme',
          });
        }
      }
      if (!credentials) return undefined;
      if (options.scheme === 'ntlm') {
        await checkRejected();
        return (await firstLeg('ntlm', undefined)).header;
      }
      if (options.scheme === undefined) {
        // The memory module is loaded only when there are credentials and no scheme was chosen.
        const memory = await import('./basic-memory.ts');
        basicFromMemory = memory.askedForBasic(env, label);
      }
      if (options.scheme === 'basic' || basicFromMemory) {
        await checkRejected();
        current = 'basic';
        tried.push('basic');
        return basicHeader(credentials);
      }
      return undefined; // Digest needs the proxy's nonce first; anything else waits for the proxy's 407
    },

    async respond(proxyAuthenticate, statusLine) {
      rounds++;
      const offered = parseChallenges(proxyAuthenticate);
      const find = (scheme: AuthScheme) => offered.find((c) => schemeIs(c, DISPLAY[scheme]));
      if (rounds > 6) throw fail(offered, statusLine, 'authentication did not finish after 6 rounds', 'the proxy keeps asking; check the credentials and the scheme (--proxy-auth)');
      if (basicFromMemory && rounds === 1 && !find('basic')) {
        // It asked for Basic once but no longer offers it: ask first again next time.
        (await import('./basic-memory.ts')).forgetAskedForBasic(env, label);
      }

      // A multi-leg scheme in progress: the proxy's token is the next challenge.
      if (current === 'ntlm') {
        const token = find('ntlm')?.token;
        if (token && credentials) {
          current = undefined; // after type 3 the exchange is over: a further 407 means rejected
          const { ntlmAuthenticate } = await import('./ntlm.ts');
          return { header: registered(ntlmAuthenticate(token, credentials, label)), sameConnection: true };
        }
      }
      if (current === 'negotiate' && negotiate) {
        const token = find('negotiate')?.token;
        if (token) {
          try {
            return { header: await negotiate.step(token), sameConnection: true };
          } catch (error) {
            if (!isNegotiateUnavailable(error)) throw error;
            throw fail(offered, statusLine, `Kerberos failed on the proxy's answer: ${error.message}`, 'klist shows your tickets; kinit USER@REALM gets a new one');
          }
        }
      }

      const candidates = (options.scheme ? [options.scheme] : [...AUTH_SCHEMES]).filter((scheme) => {
        const challenge = find(scheme);
        if (!challenge || tried.includes(scheme)) return false;
        return scheme !== 'digest' || supportsDigest(challenge);
      });
      for (const scheme of candidates) {
        if (needsCredentials(scheme) && !credentials) {
          if (options.prompt === false || prompted) continue;
          prompted = true;
          const resume = options.pauseClock?.();
          try {
            const { promptCredentials } = await import('../../credentials/prompt.ts');
            credentials = await promptCredentials(label, proxy.username);
          } finally {
            resume?.();
          }
          if (!credentials) continue;
          registerSecret(credentials.password);
        }
        if (scheme === 'basic') basicAsked = true;
        if (needsCredentials(scheme)) await checkRejected();
        try {
          return await firstLeg(scheme, find(scheme));
        } catch (error) {
          // No module, no ticket, no principal: fall back to the next scheme the proxy offers, and say why later.
          if (isNegotiateUnavailable(error)) {
            unavailable.push(`Negotiate: ${error.message}`);
            if (current === 'negotiate') current = undefined;
            continue;
          }
          throw error;
        }
      }

      // Nothing left to try: say why as precisely as we can.
      if (credentials && tried.length > 0) {
        const stillOffered = tried.filter((s) => find(s));
        if (tried.some(needsCredentials)) (await import('../../credentials/rejected.ts')).rememberRejected(env, label, credentials);
        // Said in the hint (the message keeps its shape): later runs hold these credentials back (credentials/rejected.ts).
        const held = tried.some(needsCredentials) ? '; burrow will not send these credentials to this proxy again for 15 minutes, so that retries cannot lock the account (--fresh retries at once)' : '';
        throw fail(offered, statusLine, `it rejected the credentials for user "${credentials.username}"`, `check the user name and password${stillOffered.includes('ntlm') ? ' (NTLM users are often written DOMAIN\\user)' : ''}; percent-encode special characters in a URL (":" is %3A, "@" is %40, space is %20)${held}`);
      }
      if (offered.length === 0) {
        throw fail(offered, statusLine, 'it requires authentication but names no scheme', 'ask the proxy administrators which scheme it uses');
      }
      const usable = offered.filter((c) => AUTH_SCHEMES.some((s) => schemeIs(c, DISPLAY[s])));
      if (usable.length === 0) {
        throw fail(offered, statusLine, 'it offers no scheme burrow speaks', 'burrow speaks Negotiate, NTLM, Digest and Basic');
      }
      if (usable.every((c) => schemeIs(c, 'Negotiate'))) {
        throw fail(offered, statusLine, `it wants Negotiate (Kerberos), which did not work here: ${unavailable.join('; ') || 'no ticket'}`, 'burrow needs the optional kerberos package (npm install kerberos, built with libkrb5-dev) and a ticket (kinit); or ask for Basic/NTLM access');
      }
      const credentialHint = 'put USER:PASSWORD@ in front of the host in the proxy URL (percent-encoded), or a "machine PROXYHOST login USER password PASS" line in ~/.netrc, or set BURROW_PROXY_USER and BURROW_PROXY_PASSWORD';
      throw fail(offered, statusLine, `it requires credentials and none were found${unavailable.length ? ` (${unavailable.join('; ')})` : ''}`, credentialHint);
    },

    async accepted() {
      if (basicAsked && current === 'basic' && options.scheme === undefined) (await import('./basic-memory.ts')).rememberAskedForBasic(env, label);
      if (heldBack && credentials) (await import('../../credentials/rejected.ts')).forgetRejected(env, label, credentials);
    },
  };
}

// negotiate.ts is loaded only when a proxy asks for Negotiate, so its error class is recognised by name, not instanceof.
function isNegotiateUnavailable(error: unknown): error is Error {
  return error instanceof Error && error.name === 'NegotiateUnavailable';
}

function basicHeader(credentials: { username: string; password: string }): string {
  const token = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
  registerSecret(token);
  return `Basic ${token}`;
}

function registered(header: string): string {
  registerSecret(header.slice(header.indexOf(' ') + 1));
  return header;
}

export { basicHeader as basicAuthorization };
