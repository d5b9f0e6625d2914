import { homedir } from 'node:os';
import { join } from 'node:path';
import { usageError } from '../../errors.ts';
import { parseProxyUrl } from '../../route/proxy-url.ts';
import { validateHost } from '../../route/target.ts';
import { currentProfileAddress, parseTeleportAddress, tshHome } from '../../teleport/address.ts';
import { burrowWords } from '../../wrap/inject.ts';
import { renderHostBlock, renderTeleportBlock, writeBlock } from '../../wrap/ssh-config.ts';
import type { CommandContext, CommonValues } from '../options.ts';
import { readFileSync } from 'node:fs';

// `burrow ssh-config HOST… [--teleport CLUSTER] [--write] [--no-multiplex]`: thin; src/wrap/ssh-config.ts renders.

export interface SshConfigValues extends CommonValues {
  hosts?: string[];
  teleport?: string;
  write?: boolean;
  'no-multiplex'?: boolean;
  'no-fdpass'?: boolean;
  file?: string;
}

/** Route flags carried into the ProxyCommand; a password never is (it would sit in a file). */
function connectOptions(values: SshConfigValues): string[] {
  const out: string[] = [];
  for (const url of values.proxy ?? []) {
    const hop = parseProxyUrl(url, '--proxy');
    if (hop.password !== undefined) throw usageError('--proxy has a password: ssh-config will not write it into a file', 'put the credentials in ~/.netrc (machine PROXYHOST login USER password PASS) and give the URL without them');
    out.push('--proxy', url);
  }
  if (values.direct) out.push('--direct');
  if (values['no-proxy'] !== undefined) out.push('--no-proxy', values['no-proxy']);
  if (values['connect-timeout'] !== undefined) out.push('--connect-timeout', String(values['connect-timeout']));
  if (values['proxy-ca'] !== undefined) out.push('--proxy-ca', values['proxy-ca']);
  return out;
}

function profileUser(env: NodeJS.ProcessEnv, proxyHost: string): string | undefined {
  try {
    const yaml = readFileSync(join(tshHome(env), `${proxyHost}.yaml`), 'utf8');
    return /^user:\s*["']?([^"'\s]+)["']?\s*$/m.exec(yaml)?.[1];
  } catch {
    return undefined;
  }
}

export async function runSshConfig(values: SshConfigValues, context: CommandContext): Promise<number> {
  const hosts = (values.hosts ?? []).map(String);
  const words = burrowWords();
  let block: string;
  let label: string;
  if (values.teleport !== undefined) {
    const cluster = values.teleport.trim();
    if (!/^[A-Za-z0-9.-]+$/.test(cluster)) throw usageError(`--teleport needs a cluster name, not "${cluster}"`);
    if (hosts.length > 1) throw usageError('with --teleport, give at most one HOST: the Teleport proxy address');
    const address = hosts[0] ? parseTeleportAddress(hosts[0], 'HOST') : (process.env.TELEPORT_PROXY ? parseTeleportAddress(process.env.TELEPORT_PROXY, 'TELEPORT_PROXY') : currentProfileAddress(process.env));
    if (!address) throw usageError('which Teleport proxy?', 'burrow ssh-config --teleport CLUSTER teleport.example.org (or tsh login first, or set TELEPORT_PROXY)');
    validateHost(address.host);
    const user = profileUser(process.env, address.host);
    block = renderTeleportBlock({ cluster, proxyHost: address.host, proxyPort: address.port, burrow: words, ...(user ? { user } : {}) });
    label = `teleport ${cluster}`;
  } else {
    if (hosts.length === 0) throw usageError('name at least one HOST (ssh_config patterns like *.example.org work)', 'burrow ssh-config jump.example.org >> ~/.ssh/config');
    for (const host of hosts) {
      if (!/^[A-Za-z0-9.*?!:_[\]-]+$/.test(host)) throw usageError(`"${host}" is not a host name or ssh_config pattern`);
    }
    block = renderHostBlock({ hosts, burrow: words, connectOptions: connectOptions(values), multiplex: values['no-multiplex'] !== true, fdpass: values['no-fdpass'] !== true });
    label = hosts.join(' ');
  }
  if (!values.write) {
    process.stdout.write(block); // stdout-ok: the command's answer
    return 0;
  }
  const file = values.file ?? join(process.env.HOME || homedir(), '.ssh', 'config');
  const result = writeBlock(file, label, block);
  if (!values.quiet) {
    process.stderr.write(result.changed ? `burrow: wrote the ${label} block to ${file}${result.backup ? ` (previous file: ${result.backup})` : ''}\n` : `burrow: ${file} already has this ${label} block; nothing changed\n`);
  }
  context.log.debug('ssh-config written', { ...result });
  return 0;
}
