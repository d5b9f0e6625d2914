import { createHash } from 'node:crypto';
import { requirePacCompiler } from '../runtime/packages.ts';
import { openStore } from '../state/store.ts';

// A PAC script as QuickJS runs it: degenerator's rewrite of the text (calls to the asynchronous PAC functions, and to
// the script's own functions that make them, become awaits; those functions become async). The rewrite parses and
// prints the whole script with esprima, ast-types and escodegen: ~25 ms to load them and ~20 ms to run on a cold
// process, most of a first evaluation. Its result depends only on the text, the names of the asynchronous functions
// and the compiler, so it is kept in the per-user store (src/state/store.ts: 0600, ignored when corrupt) under a hash
// of the three: a PAC seen before skips the compiler entirely, and a changed PAC is another key, compiled at once.
// With it goes QuickJS's bytecode for it (QuickJS's own parse is most of what is left of a cold evaluation), so the
// key names the QuickJS build too. An entry is written only once QuickJS has run the code, and one whose digest does
// not match, or that QuickJS refuses, is compiled again. Cached code and bytecode only ever run inside QuickJS, like
// fresh ones: the sandbox does not depend on where they came from.

/**
 * The compiler and the QuickJS build whose output is cached: pac-resolver 9.0.1 pins degenerator 7.0.1 (a test checks
 * both against node_modules). Other versions may rewrite differently or read bytecode differently: another key.
 */
export const PAC_COMPILER = 'degenerator 7.0.1';
export const PAC_QUICKJS = 'quickjs-wasi 2.2.0';
/** Long: the key changes with the content, so an entry never goes stale; only the newest few are kept. */
const TTL_MS = 30 * 24 * 3600_000;
const MAX_ENTRIES = 4;

interface CompiledEntry {
  /** sha256 of code and bytecode (compiledDigest): an entry that does not match it is ignored. */
  digest: string;
  code: string;
  /** QuickJS bytecode of the script as pac.ts evaluates it, base64. */
  bytecode?: string;
}

export interface CompiledPac {
  /** The rewritten script. */
  code: string;
  /** QuickJS bytecode of what pac.ts evaluates, when the cache had it. */
  bytecode?: Uint8Array;
  /** Whether it came from the per-user cache (the compiler did not load). */
  cached: boolean;
  /** Keeps the code, and the bytecode QuickJS made of it, for later runs (once QuickJS has run it). */
  keep(bytecode: Uint8Array | undefined): void;
}

export interface PacCompileOptions {
  /** Compile even when the cache has it: for a cached entry that QuickJS refused. */
  fresh?: boolean;
}

export function compilePac(text: string, asyncNames: readonly string[], env: Readonly<Record<string, string | undefined>>, options: PacCompileOptions = {}): CompiledPac {
  const store = openStore<CompiledEntry>(env, 'pac-compiled', { ttlMs: TTL_MS, maxEntries: MAX_ENTRIES });
  const key = createHash('sha256').update(`${PAC_COMPILER}\0${PAC_QUICKJS}\0${[...asyncNames].sort().join(',')}\0`).update(text).digest('hex');
  const keep = (code: string) => (bytecode: Uint8Array | undefined) => {
    const encoded = bytecode ? Buffer.from(bytecode).toString('base64') : undefined;
    store.set(key, { digest: compiledDigest(code, encoded), code, ...(encoded ? { bytecode: encoded } : {}) });
  };
  if (!options.fresh) {
    const found = store.get(key)?.value;
    if (found && typeof found.code === 'string' && (found.bytecode === undefined || typeof found.bytecode === 'string') && found.digest === compiledDigest(found.code, found.bytecode)) {
      return {
        code: found.code,
        ...(found.bytecode ? { bytecode: new Uint8Array(Buffer.from(found.bytecode, 'base64')) } : {}),
        cached: true,
        keep: found.bytecode ? () => undefined : keep(found.code),
      };
    }
  }
  const code = requirePacCompiler().degenerator(text, [...asyncNames]);
  return { code, cached: false, keep: keep(code) };
}

/** What an entry's digest covers: the code and the bytecode (base64), as stored. */
export function compiledDigest(code: string, bytecode: string | undefined): string {
  return createHash('sha256').update(code).update('\0').update(bytecode ?? '').digest('hex');
}
