import type { BurrowConfig, CredentialRef } from '../route/config.ts';
import type { Environment } from '../route/environment.ts';
import type { RoutePlan } from '../route/plan.ts';
import type { ProxyEndpoint } from '../route/proxy-url.ts';
import { loadConfig } from '../route/config-file.ts';
import type { RouteOptions } from '../route/policy.ts';
import { registerSecret } from '../secrets.ts';
import { netrcLookup, netrcPath, readNetrc, type Netrc } from './netrc.ts';

// The config file's `credentials:` entries: credentials by reference (netrc, environment, prompt), or inline with a
// warning, for proxies whose URL carries none.

/** Every password the entries can produce (inline ones, and the values of the variables they name), registered. */
function configPasswords(config: BurrowConfig, env: Environment): string[] {
  const found: string[] = [];
  for (const ref of config.credentials) {
    const password = ref.from === 'inline' ? ref.password : ref.from === 'env' ? env[ref.passwordEnv ?? 'BURROW_PROXY_PASSWORD'] : undefined;
    if (password) {
      registerSecret(password);
      found.push(password);
    }
  }
  return found;
}

/**
 * Every secret the config file can produce (inline passwords, and the values of the variables its credentials:
 * entries name), registered: wrappers keep them out of a child's environment even before any route has used them.
 */
export async function configSecrets(options: RouteOptions): Promise<string[]> {
  const config = await loadConfig(options.configFile, options.env);
  if (!config) return [];
  return configPasswords(config, options.env);
}

/**
 * The plan with the config file's credentials: filled in for the hops whose URL has none, and the problems met
 * while looking them up added to its warnings. The route policy only names the entries (plan.credentials); the
 * lookup (netrc, environment) belongs here. Idempotent: hops that already carry credentials are left alone.
 */
export function withPlanCredentials(plan: RoutePlan, env: Environment): RoutePlan {
  const config = plan.credentials;
  if (!config || config.credentials.length === 0) return plan;
  const warnings = [...plan.warnings];
  const alternatives = plan.alternatives.map((alternative) => ({ ...alternative, hops: alternative.hops.map((hop) => withConfigCredentials(hop, config, env, warnings)) }));
  return { ...plan, alternatives, warnings };
}

/** credentials: of the config file, for a hop whose URL has none. */
function withConfigCredentials(hop: ProxyEndpoint, config: Pick<BurrowConfig, 'file' | 'credentials'>, env: Environment, warnings: string[]): ProxyEndpoint {
  if (hop.username !== undefined || hop.password !== undefined) return hop;
  const ref = config.credentials.find((c) => c.host === hop.host.toLowerCase() && (c.port === undefined || c.port === hop.port));
  if (!ref) return hop;
  const found = lookupCredentials(ref, hop, env);
  const warning = found.warning && `${config.file}:${ref.line}: ${found.warning}`;
  if (warning && !warnings.includes(warning)) warnings.push(warning);
  if (found.username === undefined) return hop;
  if (found.password !== undefined) registerSecret(found.password);
  return { ...hop, username: found.username, ...(found.password !== undefined ? { password: found.password } : {}) };
}

function lookupCredentials(ref: CredentialRef, hop: ProxyEndpoint, env: Environment): { username?: string; password?: string; warning?: string } {
  switch (ref.from) {
    case 'inline':
      return ref.user === undefined ? { warning: 'credentials with a password need user:' } : { username: ref.user, password: ref.password ?? '' };
    case 'env': {
      const userName = ref.userEnv ?? 'BURROW_PROXY_USER';
      const passwordName = ref.passwordEnv ?? 'BURROW_PROXY_PASSWORD';
      const username = ref.user ?? env[userName];
      const password = env[passwordName];
      if (!username) return { warning: `credentials for ${hop.host}: ${userName} is not set` };
      if (password === undefined) return { username, warning: `credentials for ${hop.host}: ${passwordName} is not set` };
      return { username, password };
    }
    case 'prompt':
      // The password is asked for on /dev/tty when the proxy answers 407 (the dialer's prompt); the user name may
      // come from here.
      return ref.user === undefined ? {} : { username: ref.user };
    case 'netrc': {
      const read = readNetrc(env);
      if (!read) return { warning: `credentials for ${hop.host} from netrc: cannot read ${netrcPath(env)}` };
      return netrcCredentials(read.netrc, ref, hop, read.file);
    }
  }
}

function netrcCredentials(netrc: Netrc, ref: CredentialRef, hop: ProxyEndpoint, file: string): { username?: string; password?: string; warning?: string } {
  const entry = netrcLookup(netrc, hop.host);
  if (!entry || entry.login === undefined || (ref.user !== undefined && entry.login !== ref.user)) {
    return { warning: `credentials for ${hop.host} from netrc: no "machine ${hop.host}"${ref.user ? ` with login ${ref.user}` : ''} in ${file}` };
  }
  return { username: entry.login, password: entry.password ?? '' };
}
