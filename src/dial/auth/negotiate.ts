import { importKerberos } from '../../runtime/packages.ts';

// Negotiate (SPNEGO/Kerberos) with the optional `kerberos` package: it needs libkrb5 at build time, so it is an
// optional dependency, loaded only when a proxy offers Negotiate. It uses the user's ticket cache (kinit), never a
// password. The service principal is HTTP@<proxy host> as the proxy URL names it (REFERENCE.md §4: the
// proxy-agent-negotiate package hard-codes "HTTP@proxy", which is why burrow does its own).

interface KerberosClient {
  step(challenge: string): Promise<string>;
}
interface KerberosModule {
  initializeClient(service: string, options: { mechOID?: unknown }): Promise<KerberosClient>;
  GSS_MECH_OID_SPNEGO: unknown;
}

export class NegotiateUnavailable extends Error {
  override name = 'NegotiateUnavailable';
}

async function loadKerberos(): Promise<KerberosModule> {
  try {
    const loaded = (await importKerberos()) as Partial<KerberosModule> & { default?: KerberosModule };
    return (typeof loaded.initializeClient === 'function' ? loaded : loaded.default) as KerberosModule;
  } catch (error) {
    throw new NegotiateUnavailable(`the optional "kerberos" package is not installed (${(error as Error).message.split('\n')[0]})`);
  }
}

export interface NegotiateSession {
  /** The next Proxy-Authorization value for the proxy's token (empty for the first leg). */
  step(token: string): Promise<string>;
}

export async function startNegotiate(proxyHost: string): Promise<NegotiateSession> {
  const kerberos = await loadKerberos();
  let client: KerberosClient;
  try {
    client = await kerberos.initializeClient(`HTTP@${proxyHost}`, { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
  } catch (error) {
    throw kerberosError(error, proxyHost);
  }
  return {
    async step(token: string) {
      try {
        return `Negotiate ${await client.step(token)}`;
      } catch (error) {
        throw kerberosError(error, proxyHost);
      }
    },
  };
}

function kerberosError(error: unknown, proxyHost: string): NegotiateUnavailable {
  const text = (error as Error).message ?? String(error);
  const noTicket = /credentials cache|No Kerberos credentials|No credentials|cannot find mechanisms|expired/i.test(text);
  const hint = noTicket ? 'get a Kerberos ticket first: kinit USER@REALM (klist shows what you have)' : `check that the proxy's principal HTTP/${proxyHost} exists in your realm and that the proxy host name in the URL is the one the principal names`;
  return new NegotiateUnavailable(`Kerberos for HTTP@${proxyHost} failed (${text.split(':')[0]}); ${hint}`);
}
