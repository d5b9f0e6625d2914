import type { Environment } from '../route/environment.ts';
import type { ProxyEndpoint } from '../route/proxy-url.ts';
import { registerSecret } from '../secrets.ts';
import { netrcLookup, readNetrc } from './netrc.ts';

export interface CredentialSource {
  username: string;
  password: string;
  /** Where they came from, for logs: "the proxy URL", "~/.netrc", "BURROW_PROXY_USER/BURROW_PROXY_PASSWORD". */
  source: string;
}

/**
 * Fills in a proxy's credentials when its URL has none, in DESIGN.md's order: the URL itself, then ~/.netrc
 * (`machine PROXYHOST`; $NETRC names another file), then BURROW_PROXY_USER / BURROW_PROXY_PASSWORD.
 * Read only for hops that lack credentials, so the common path touches no file.
 */
export function withCredentials(proxy: ProxyEndpoint, env: Environment): { proxy: ProxyEndpoint; source?: string } {
  if (proxy.username !== undefined || proxy.password !== undefined) return { proxy, source: 'the proxy URL' };
  const found = fromNetrc(proxy.host, env) ?? fromEnvironment(env);
  if (!found) return { proxy };
  registerSecret(found.password);
  return { proxy: { ...proxy, username: found.username, password: found.password }, source: found.source };
}

function fromNetrc(host: string, env: Environment): CredentialSource | undefined {
  const read = readNetrc(env);
  const entry = read && netrcLookup(read.netrc, host);
  if (!entry || entry.login === undefined) return undefined;
  return { username: entry.login, password: entry.password ?? '', source: env.NETRC ? '$NETRC' : '~/.netrc' };
}

function fromEnvironment(env: Environment): CredentialSource | undefined {
  const username = env.BURROW_PROXY_USER;
  if (!username) return undefined;
  return { username, password: env.BURROW_PROXY_PASSWORD ?? '', source: 'BURROW_PROXY_USER/BURROW_PROXY_PASSWORD' };
}
