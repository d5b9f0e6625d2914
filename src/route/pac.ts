import { readFileSync } from 'node:fs';
import type { JSValueHandle, QuickJS } from 'quickjs-wasi';
import { BurrowError } from '../errors.ts';
import { embeddedAsset } from '../runtime/install.ts';
import { quickjsWasmFile, requirePacEngine } from '../runtime/packages.ts';
import { compilePac, type CompiledPac } from './pac-compiled.ts';
import { pacDnsFunctions, withLookups, type LookupTable } from './pac-dns.ts';
import { pacError } from './pac-fetch.ts';
import { pacUrlFor } from './pac-result.ts';
import type { Target } from './target.ts';

// PAC files (`--pac FILE|URL`, BURROW_PAC, or pac: in the config file), evaluated inside QuickJS compiled to
// WebAssembly (quickjs-wasi) with pac-resolver's PAC functions: the script cannot reach Node, the file system or the
// network (REFERENCE.md §4). This module and the engine (dist/pac-engine.cjs) are imported only when a PAC answer is
// not remembered (sources.ts); the script is loaded once per run and each answer is cached per target.
//
// This module does what pac-resolver's createPacResolver() would do, without its script rewrite: each PAC function
// becomes a QuickJS host function, the script is evaluated (from QuickJS bytecode kept per content when there is some:
// src/route/pac-compiled.ts), and FindProxyForURL is called. The DNS functions answer from a table, and an evaluation
// that needs a name the table lacks is run again once it is looked up (src/route/pac-dns.ts, as Chromium does).
//
// burrow replaces some of pac-resolver's built-in functions:
// - alert() writes to stdout in pac-resolver, which in `connect` is the tunnel: here it is collected and shown as a
//   route warning (`burrow route`, or `connect -v`).
// - myIpAddress() opens a socket to 8.8.8.8 in pac-resolver: here it reads the interfaces, no traffic.
// - dnsResolve(), isResolvable() and isInNet() look names up with a time bound (2 s each), between runs.
// QuickJS's own writes to stdout/stderr (WASI fd_write; nothing a script can call, but the tunnel must never carry a
// stray byte) are refused. Every evaluation is bounded too: QuickJS's interrupt handler stops a script that loops.

const MEMORY_LIMIT = 64 * 1024 * 1024;
const WASI_ERRNO_BADF = 8;

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

type PacFunction = (...args: unknown[]) => unknown;
type FindProxyCaller = (url: string, host: string) => Promise<unknown>;

/**
 * The engine for a PAC's text (pac-text.ts obtains it: the caller reads or fetches it once per run). `env` locates the
 * per-user store where the compiled script is cached.
 */
export async function loadPac(location: string, text: string, timeoutMs: number, env: Readonly<Record<string, string | undefined>> = process.env): Promise<PacScript> {
  const engine = requirePacEngine();
  keepWebAssemblyOnLiftoff();
  let deadline = Number.POSITIVE_INFINITY;
  let ticks = 0;
  // Compiling quickjs.wasm runs on V8's background threads: start it, and read the kept bytecode meanwhile.
  const vmReady = engine.QuickJS.create({
    wasm: quickjsWasm(),
    memoryLimit: MEMORY_LIMIT,
    // Called about once per bytecode instruction: look at the clock every 10000 of them.
    interruptHandler: () => ++ticks % 10_000 === 0 && Date.now() > deadline,
    wasi: () => ({ fd_write: () => WASI_ERRNO_BADF }),
  });
  let alerts: string[] = [];
  // The evaluation under way's DNS answers (pac-dns.ts): a new table for each answer.
  let lookups: LookupTable = { answers: new Map() };
  const functions: Record<string, PacFunction> = {
    ...(engine.sandbox as unknown as Record<string, PacFunction>),
    alert: (message?: unknown) => {
      if (alerts.length < 20) alerts.push(String(message ?? '').slice(0, 500));
    },
    ...pacDnsFunctions(() => lookups),
  };
  const compiled = compilePac(text, env);
  const vm = await vmReady;
  let findProxyForUrl: FindProxyCaller;
  try {
    installFunctions(vm, functions);
    findProxyForUrl = loadScript(vm, compiled, location, () => compilePac(text, env, { fresh: true }));
  } catch (error) {
    vm.dispose();
    throw pacError(location, `the script does not compile: ${error instanceof Error ? error.message : String(error)}`);
  }

  const cache = new Map<string, Promise<PacEvaluation>>();
  // One VM, one evaluation at a time (the clock above is shared); forward's connections wait their turn.
  let queue: Promise<unknown> = Promise.resolve();
  const run = (url: string, host: string): Promise<PacEvaluation> => {
    const turn = queue.then(async () => {
      const until = Date.now() + timeoutMs;
      deadline = until;
      lookups = { answers: new Map() };
      let timer: NodeJS.Timeout | undefined;
      try {
        const answer = await Promise.race([
          withLookups(lookups, () => {
            // Given up on (its time ran out while a name was looked up, and the clock above now belongs to the next
            // evaluation): it must not run again, unbounded.
            if (Date.now() > until) throw new Error(`no answer within ${timeoutMs / 1000} s`);
            alerts = [];
            return findProxyForUrl(url, host);
          }),
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

/**
 * V8 compiles WebAssembly lazily with its baseline compiler (Liftoff), then recompiles the functions that run hot with
 * TurboFan on background threads. QuickJS's start and a PAC's parse are hot enough to set that off: ~100 ms of CPU
 * that competes with the tunnel's own start (measured through squid on 2 cores: the dial after a cold PAC took
 * 130-230 ms instead of 5-10, and peak RSS grew by ~20 MB), for code that then runs a few milliseconds per answer.
 * So the process keeps to Liftoff, which must be set before quickjs.wasm is compiled and stay set (V8 checks it
 * whenever a function turns hot). It changes V8's flag hash, so a V8 code cache made afterwards would be rejected by
 * other processes: bin/burrow does not write its code cache from a process that loaded the PAC engine.
 */
function keepWebAssemblyOnLiftoff(): void {
  process.getBuiltinModule('node:v8').setFlagsFromString('--liftoff-only');
}

/** quickjs.wasm's bytes: the single executable's asset, else the file from the quickjs-wasi package. */
function quickjsWasm(): Uint8Array {
  const asset = embeddedAsset('quickjs.wasm');
  return asset ? new Uint8Array(asset) : readFileSync(quickjsWasmFile());
}

/**
 * Each PAC function as a global host function of the VM: arguments arrive as plain values, and every function answers
 * synchronously (the DNS ones from their table: pac-dns.ts). What a function throws is thrown inside the script.
 */
function installFunctions(vm: QuickJS, functions: Record<string, PacFunction>): void {
  for (const [name, fn] of Object.entries(functions)) {
    const handle = vm.newFunction(name, (...args: JSValueHandle[]) => vm.hostToHandle(fn(...args.map((arg) => vm.dump(arg)))));
    vm.setProp(vm.global, name, handle);
    handle.dispose();
  }
}

/** Disposes a handle unless it is one of the VM's shared ones (vm.undefined, vm.null, vm.true, vm.false). */
function release(vm: QuickJS, handle: JSValueHandle): void {
  if (handle !== vm.undefined && handle !== vm.null && handle !== vm.true && handle !== vm.false) handle.dispose();
}

/**
 * Runs the script, from its cached bytecode when there is one, and returns a caller of its FindProxyForURL. A cached
 * entry QuickJS refuses (damaged in a way its digest did not catch) is compiled again, once; code QuickJS has run is
 * kept with its bytecode for later runs.
 */
function loadScript(vm: QuickJS, first: CompiledPac, location: string, recompile: () => CompiledPac): FindProxyCaller {
  const attempt = (compiled: CompiledPac): FindProxyCaller => {
    if (compiled.bytecode) return callerOf(vm, vm.evalBytecode(compiled.bytecode));
    // The script's completion value is the function, however the script declared it (function, var, let or const).
    const source = `${compiled.code};FindProxyForURL`;
    const caller = callerOf(vm, vm.evalCode(source, location));
    let bytecode: Uint8Array | undefined;
    try {
      bytecode = vm.compile(source, location);
    } catch {
      bytecode = undefined; // the code alone is still worth keeping
    }
    compiled.keep(bytecode);
    return caller;
  };
  if (!first.cached) return attempt(first);
  try {
    return attempt(first);
  } catch {
    return attempt(recompile());
  }
}

/** A caller of FindProxyForURL (which a script may declare async): the function's handle must be one. */
function callerOf(vm: QuickJS, fn: JSValueHandle): FindProxyCaller {
  const type = vm.typeof(fn);
  if (type !== 'function') {
    fn.dispose();
    throw new Error(`FindProxyForURL is ${type === 'undefined' ? 'not defined' : `a ${type}, not a function`}`);
  }
  return async (url, host) => {
    const args = [vm.newString(new URL(url).href), vm.newString(host)];
    let result: JSValueHandle | undefined;
    try {
      result = vm.callFunction(fn, vm.undefined, ...args);
      const settled = vm.resolvePromise(result);
      vm.executePendingJobs();
      const outcome = await settled;
      if ('error' in outcome) {
        const error = vm.dump(outcome.error);
        outcome.error.dispose();
        throw error instanceof Error ? error : new Error(String(error));
      }
      try {
        return vm.dump(outcome.value);
      } finally {
        release(vm, outcome.value);
      }
    } finally {
      for (const arg of args) arg.dispose();
      result?.dispose();
    }
  };
}
