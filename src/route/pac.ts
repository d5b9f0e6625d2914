import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { QuickJS } from 'quickjs-wasi';
import { BurrowError } from '../errors.ts';
import { embeddedAsset } from '../runtime/install.ts';
import { requirePacResolver } from '../runtime/packages.ts';
import { pacError } from './pac-fetch.ts';
import { pacUrlFor } from './pac-result.ts';
import type { Target } from './target.ts';

// PAC files (`--pac FILE|URL`, BURROW_PAC, or pac: in the config file), evaluated with pac-resolver inside QuickJS
// compiled to WebAssembly (quickjs-wasi): the script cannot reach Node, the file system or the network
// (REFERENCE.md §4). This module, pac-resolver and quickjs-wasi are imported only when a PAC answer is not
// remembered (sources.ts); the script is compiled once per run and each answer is cached per target.
//
// burrow replaces some of pac-resolver's built-in functions:
// - alert() writes to stdout in pac-resolver, which in `connect` is the tunnel: here it is collected and shown as a
//   route warning (`burrow route`, or `connect -v`).
// - myIpAddress() opens a socket to 8.8.8.8 in pac-resolver: here it reads the interfaces, no traffic.
// - dnsResolve(), isResolvable() and isInNet() look names up with a time bound (DNS_LIMIT_MS each).
// Every evaluation is bounded too: QuickJS's interrupt handler stops a script that loops.

const DNS_LIMIT_MS = 2000;
const MEMORY_LIMIT = 64 * 1024 * 1024;

export interface PacEvaluation {
  /** The URL given to FindProxyForURL. */
  url: string;
  answer: string;
  /** What the script passed to alert() while answering. */
  alerts: string[];
}

export interface PacScript {
  location: string;
  evaluate(target: Target): Promise<PacEvaluation>;
}

/** The engine for a PAC's text (pac-text.ts obtains it: the caller reads or fetches it once per run). */
export async function loadPac(location: string, text: string, timeoutMs: number): Promise<PacScript> {
  let deadline = Number.POSITIVE_INFINITY;
  let ticks = 0;
  // quickjs-wasi reads quickjs.wasm from beside its own files; the single executable carries it as an asset.
  const wasm = embeddedAsset('quickjs.wasm');
  const vm = await QuickJS.create({
    ...(wasm ? { wasm: new Uint8Array(wasm) } : {}),
    memoryLimit: MEMORY_LIMIT,
    // Called about once per bytecode instruction: look at the clock every 10000 of them.
    interruptHandler: () => ++ticks % 10_000 === 0 && Date.now() > deadline,
  });
  let alerts: string[] = [];
  let findProxyForUrl: (url: string, host: string) => Promise<string>;
  try {
    findProxyForUrl = requirePacResolver().createPacResolver(vm, text, {
      filename: location,
      sandbox: {
        alert: (message?: unknown) => {
          if (alerts.length < 20) alerts.push(String(message ?? '').slice(0, 500));
        },
        myIpAddress,
        dnsResolve,
        isResolvable,
        isInNet,
      },
    });
  } catch (error) {
    vm.dispose();
    throw pacError(location, `the script does not compile: ${error instanceof Error ? error.message : String(error)}`);
  }

  const cache = new Map<string, Promise<PacEvaluation>>();
  // One VM, one evaluation at a time (the clock above is shared); forward's connections wait their turn.
  let queue: Promise<unknown> = Promise.resolve();
  const run = (url: string, host: string): Promise<PacEvaluation> => {
    const turn = queue.then(async () => {
      alerts = [];
      deadline = Date.now() + timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      try {
        const answer = await Promise.race([
          findProxyForUrl(url, host),
          new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
          }),
        ]);
        return { url, answer: typeof answer === 'string' ? answer : String(answer ?? ''), alerts };
      } catch (error) {
        const why = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
        throw new BurrowError('usage', `the PAC file ${location} failed for ${url}: ${why}`, {
          hint: 'fix the PAC file (test it with `burrow route HOST PORT`), or bypass it with --proxy or --direct',
        });
      } finally {
        clearTimeout(timer);
        deadline = Number.POSITIVE_INFINITY;
      }
    });
    queue = turn.catch(() => undefined);
    return turn;
  };

  return {
    location,
    evaluate(target) {
      const url = pacUrlFor(target.host, target.port);
      let result = cache.get(url);
      if (!result) {
        result = run(url, target.host);
        cache.set(url, result);
        result.catch(() => cache.delete(url));
      }
      return result;
    },
  };
}

async function boundedLookup(host: string): Promise<string | null> {
  if (isIP(host) === 4) return host;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      lookup(host, { family: 4 }).then((r) => r.address),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), DNS_LIMIT_MS);
      }),
    ]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

// The sandbox functions must be real async functions: pac-resolver (via degenerator) looks for AsyncFunction to
// know which calls in the script to turn into awaits.

async function dnsResolve(host: unknown): Promise<string | null> {
  return typeof host === 'string' ? boundedLookup(host) : null;
}

async function isResolvable(host: unknown): Promise<boolean> {
  return (await dnsResolve(host)) !== null;
}

async function isInNet(host: unknown, pattern: unknown, mask: unknown): Promise<boolean> {
  if (typeof host !== 'string' || typeof pattern !== 'string' || typeof mask !== 'string') return false;
  const address = await boundedLookup(host);
  if (address === null) return false;
  const [a, p, m] = [address, pattern, mask].map(ipv4Number);
  if (a === undefined || p === undefined || m === undefined) return false;
  return ((a & m) >>> 0) === ((p & m) >>> 0);
}

async function myIpAddress(): Promise<string> {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

function ipv4Number(text: string): number | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}
