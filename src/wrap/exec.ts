import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { BurrowError } from '../errors.ts';
import type { Log } from '../log.ts';
import type { DialOptions } from '../dial/context.ts';
import { configSecrets } from '../credentials/config.ts';
import { withCredentials } from '../credentials/lookup.ts';
import { basicAuthorization } from '../dial/auth/session.ts';
import { makeRouter, newLimits, type RunningListener } from '../relay/listener.ts';
import { randomCredentials, startProxyServer } from '../relay/proxy-server.ts';
import { configuredProxyTexts } from '../route/environment.ts';
import { parseProxyUrl, type ProxyEndpoint } from '../route/proxy-url.ts';
import type { RouteOptions } from '../route/policy.ts';
import { bridgeEnvironment, scrubEnvironment, type BridgeAddress } from './env.ts';
import { burrowWords, injectFor, proxyCommandValue, toolKind } from './inject.ts';

// `burrow exec -- CMD ARGS…`: CMD runs with its traffic through the route. An in-process bridge (the local proxy
// server of `burrow forward`, SOCKS5 + HTTP on one port, 127.0.0.1 only, a random per-run credential) dials every
// target with the parent's route rules; the child gets only the bridge's address and credential in its proxy
// variables, and ssh/scp/sftp/git/rsync get a ProxyCommand that reaches the bridge through `burrow connect`.

export interface Bridge {
  address: BridgeAddress;
  listener: RunningListener;
  close(): Promise<void>;
}

export async function startBridge(routeOptions: RouteOptions, dialOptions: DialOptions, log: Log, name = 'exec bridge'): Promise<Bridge> {
  const auth = randomCredentials();
  const listener = await startProxyServer({
    name,
    listen: { host: '127.0.0.1', port: 0 },
    protocols: ['socks', 'http'],
    auth,
    router: makeRouter(routeOptions, dialOptions),
    log,
    limits: newLimits(),
  });
  const address: BridgeAddress = { host: '127.0.0.1', port: listener.address.port, user: auth.user, password: auth.password };
  log.debug('bridge listening', { port: address.port });
  return {
    address,
    listener,
    close: async () => {
      await listener.close(0);
    },
  };
}

/** Every proxy the parent could use (flags, BURROW_PROXY, the standard variables), parsed. */
export function configuredProxies(routeOptions: RouteOptions): ProxyEndpoint[] {
  const hops: ProxyEndpoint[] = [];
  const tryParse = (text: string, origin: string) => {
    try {
      hops.push(parseProxyUrl(text, origin));
    } catch {
      // not a URL burrow would use; its raw text is scrubbed by value anyway
    }
  };
  for (const text of routeOptions.proxies ?? []) tryParse(text, '--proxy');
  // Every spelling that is set, and every value split at commas: a password is found even in a malformed list.
  for (const { name, texts } of configuredProxyTexts(routeOptions.env, { everySpelling: true })) {
    for (const text of texts.flatMap((t) => t.split(','))) if (text.trim()) tryParse(text, name);
  }
  return hops;
}

/**
 * The strings that must never reach a child: each upstream proxy's password (decoded and percent-encoded), its
 * Basic token, credentials found in ~/.netrc or BURROW_PROXY_PASSWORD for it, and the raw values of proxy
 * variables that carry userinfo.
 */
export function upstreamSecrets(routeOptions: RouteOptions): string[] {
  const secrets = new Set<string>();
  for (const hop of configuredProxies(routeOptions)) {
    const { proxy } = withCredentials(hop, routeOptions.env);
    if (proxy.password) {
      secrets.add(proxy.password);
      secrets.add(encodeURIComponent(proxy.password));
      secrets.add(basicAuthorization({ username: proxy.username ?? '', password: proxy.password }).slice('Basic '.length));
    }
  }
  if (routeOptions.env.BURROW_PROXY_PASSWORD) secrets.add(routeOptions.env.BURROW_PROXY_PASSWORD);
  for (const [name, value] of Object.entries(routeOptions.env)) {
    if (value && /proxy$/i.test(name) && /:\/\/[^/@\s]*:[^/@\s]*@/.test(value)) secrets.add(value.trim());
  }
  return [...secrets].filter((s) => s.length >= 3);
}

/**
 * Node makes a pipe non-blocking (O_NONBLOCK) the moment process.stdout or process.stderr is created, and yargs
 * creates process.stdout when it loads; the flag lives on the open file description that the child inherits, so a
 * child writing to that pipe would get EAGAIN. Put them back in blocking mode before the child starts. stdin is never
 * touched. (TTYs are safe: libuv reopens them.)
 */
export function restoreBlockingStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as unknown as { _handle?: { setBlocking?: (blocking: boolean) => number } })._handle;
    if (handle?.setBlocking) handle.setBlocking(true);
  }
}

export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs the child with inherited stdio, forwards SIGINT/SIGTERM/SIGHUP, and resolves with its exit code (128+N when
 * a signal ended it; 127 when the program does not exist, 126 when it cannot be run, as env(1) and shells do).
 */
export function runChild(program: string, args: string[], env: Record<string, string>, log: Log): Promise<number> {
  restoreBlockingStdio();
  return new Promise((resolve) => {
    // Handlers go in before the child exists: the child may print (and whoever watches it may signal us) before
    // spawn() even returns here on a busy machine, and a signal with no handler would kill burrow, not reach the child.
    let child: ReturnType<typeof spawn> | undefined;
    const early: NodeJS.Signals[] = [];
    const forward = (signal: NodeJS.Signals) => {
      if (!child) {
        early.push(signal);
        return;
      }
      log.debug(`forwarding ${signal} to ${program}`);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    child = spawn(program, args, { stdio: 'inherit', env });
    for (const signal of early.splice(0)) forward(signal);
    const done = (code: number) => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolve(code);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      const notFound = error.code === 'ENOENT';
      process.stderr.write(`burrow: ${program}: ${notFound ? 'command not found' : `cannot run it (${error.code ?? error.message})`}\n`);
      done(notFound ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      if (signal) done(128 + (constants.signals[signal] ?? 0));
      else done(code ?? 1);
    });
  });
}

/**
 * For `ssh` only: whether the user's ssh_config already sets ProxyJump or ProxyCommand for this destination
 * (`ssh -G` prints the configuration it would use). A ProxyCommand on the command line would override it.
 */
export function sshConfigChoosesProxy(program: string, args: string[], env: Record<string, string>): string | undefined {
  const result = spawnSync(program, ['-G', ...args], { env, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000, encoding: 'utf8' });
  if (result.status !== 0 || typeof result.stdout !== 'string') return undefined;
  for (const line of result.stdout.split('\n')) {
    const match = /^(proxycommand|proxyjump)\s+(.*)$/.exec(line.trim());
    if (match && match[2] !== 'none') return `${match[1] === 'proxyjump' ? 'ProxyJump' : 'ProxyCommand'} ${match[2]}`;
  }
  return undefined;
}

export interface ExecOptions {
  routeOptions: RouteOptions;
  dialOptions: DialOptions;
  log: Log;
  quiet: boolean;
}

export interface ChildPlan {
  program: string;
  args: string[];
  env: Record<string, string>;
  notes: string[];
}

/** What `burrow exec` will run, given the bridge: pure but for `ssh -G`. */
export function planExec(command: string[], parentEnv: Readonly<Record<string, string | undefined>>, secrets: string[], bridge: BridgeAddress, checkSshConfig = true): ChildPlan {
  const [program, ...args] = command;
  if (!program) throw new BurrowError('usage', 'exec needs a command after --', { hint: 'burrow exec -- ssh jump.example.org' });
  const scrubbed = scrubEnvironment(parentEnv, secrets);
  const notes: string[] = [];
  if (scrubbed.dropped.length) notes.push(`not passed to ${program} (they carry the upstream proxy's credentials): ${scrubbed.dropped.join(', ')}`);
  const proxyCommand = proxyCommandValue(burrowWords());
  const base = bridgeEnvironment(scrubbed.env, bridge);
  let injection = injectFor(program, args, base, proxyCommand);
  if (toolKind(program) === 'ssh' && injection.args !== args && checkSshConfig) {
    const configured = sshConfigChoosesProxy(program, args, base);
    if (configured) injection = { args, env: {}, note: `ssh: your ssh_config sets ${configured} for this host; kept it` };
  }
  notes.push(injection.note);
  return { program, args: injection.args, env: { ...base, ...injection.env }, notes };
}

export async function runExec(command: string[], options: ExecOptions): Promise<number> {
  const { log } = options;
  const secrets = [...upstreamSecrets(options.routeOptions), ...(await configSecrets(options.routeOptions))];
  const bridge = await startBridge(options.routeOptions, options.dialOptions, log);
  try {
    const plan = planExec(command, options.routeOptions.env, secrets, bridge.address);
    for (const note of plan.notes) log.info(note);
    return await runChild(plan.program, plan.args, plan.env, log);
  } finally {
    await bridge.close();
  }
}
