import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { formatHostPort, parseHostPort } from '../route/target.ts';

// Where the Teleport proxy is, the way tsh finds it: `--proxy` in tsh's own arguments, then TELEPORT_PROXY, then
// the current profile under ~/.tsh (TELEPORT_HOME names another directory). tsh's --proxy may carry a second port
// for SSH ("host:3080,3023"); only the web address matters here.

export interface TeleportAddress {
  host: string;
  /** The web port; 443 when none was given (REFERENCE.md §1: tsh's port detection ignored proxies in some versions). */
  port: number;
  hadPort: boolean;
  source: string;
}

/** Parses "host", "host:port", "host:port,sshport", "[v6]:port". */
export function parseTeleportAddress(text: string, source: string): TeleportAddress | undefined {
  const web = text.split(',')[0]!.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  // A host alone ("host", "[v6]") takes 443; anything else must carry its port (a bare IPv6 literal is refused).
  const hadPort = !/^(?:\[[^\]]*\]|[^:]*)$/.test(web);
  try {
    const { host, port } = hadPort ? parseHostPort(web) : parseHostPort(web, 443);
    return { host, port, hadPort, source };
  } catch {
    return undefined;
  }
}

/** The value of tsh's --proxy among its arguments, and where it is (to rewrite it). */
export function findProxyArgument(args: string[]): { index: number; inline: boolean; value: string } | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('--proxy=')) return { index: i, inline: true, value: arg.slice('--proxy='.length) };
    if (arg === '--proxy' && i + 1 < args.length) return { index: i, inline: false, value: args[i + 1]! };
  }
  return undefined;
}

/** tsh's arguments with a port-less --proxy given :443 (and the ",sshport" part kept). */
export function withProxyPort(args: string[]): string[] {
  const found = findProxyArgument(args);
  if (!found) return args;
  const address = parseTeleportAddress(found.value, '--proxy');
  if (!address || address.hadPort) return args;
  const [, ...rest] = found.value.split(',');
  const value = [formatHostPort(address.host, 443), ...rest].join(',');
  const out = [...args];
  if (found.inline) out[found.index] = `--proxy=${value}`;
  else out[found.index + 1] = value;
  return out;
}

export function tshHome(env: Readonly<Record<string, string | undefined>>): string {
  return env.TELEPORT_HOME || join(env.HOME || homedir(), '.tsh');
}

/** The current profile's web proxy address (~/.tsh/current-profile names it; <name>.yaml has web_proxy_addr). */
export function currentProfileAddress(env: Readonly<Record<string, string | undefined>>): TeleportAddress | undefined {
  const home = tshHome(env);
  let name: string;
  try {
    name = readFileSync(join(home, 'current-profile'), 'utf8').trim();
  } catch {
    return undefined;
  }
  if (!name || /[/\\]/.test(name)) return undefined;
  let yaml = '';
  try {
    yaml = readFileSync(join(home, `${name}.yaml`), 'utf8');
  } catch {
    return parseTeleportAddress(name, `the tsh profile ${name}`);
  }
  const web = /^web_proxy_addr:\s*["']?([^"'\s]+)["']?\s*$/m.exec(yaml)?.[1];
  return parseTeleportAddress(web ?? name, `the tsh profile ${join(home, `${name}.yaml`)}`);
}

export function discoverAddress(args: string[], env: Readonly<Record<string, string | undefined>>): TeleportAddress | undefined {
  const argument = findProxyArgument(args);
  if (argument) return parseTeleportAddress(argument.value, '--proxy');
  if (env.TELEPORT_PROXY) return parseTeleportAddress(env.TELEPORT_PROXY, 'TELEPORT_PROXY');
  return currentProfileAddress(env);
}
