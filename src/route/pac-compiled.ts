import { createHash } from 'node:crypto';
import { requirePacCompiler } from '../runtime/packages.ts';
import { openStore } from '../state/store.ts';

// A PAC script as QuickJS runs it: degenerator's rewrite of the text (calls to the asynchronous PAC functions, and to
// the script's own functions that make them, become awaits; those functions become async). The rewrite parses and
// prints the whole script with esprima, ast-types and escodegen: ~25 ms to load them and ~20 ms to run on a cold
// process, most of a first evaluation. Its result depends only on the text, the names of the asynchronous functions
// and the compiler, so it is kept in the per-user store (src/state/store.ts: 0600, ignored when corrupt) under a hash
// of the three: a PAC seen before skips the compiler entirely, and a changed PAC is another key, compiled at once.
// The cached text only ever runs inside QuickJS, like the fresh one: the sandbox does not depend on where it came from.

/**
 * The compiler whose output is cached: pac-resolver 9.0.1 pins degenerator 7.0.1 (a test checks this against
 * node_modules). Another version may rewrite differently, so it is part of the key.
 */
export const PAC_COMPILER = 'degenerator 7.0.1';
/** Long: the key changes with the content, so an entry never goes stale; only the newest few are kept. */
const TTL_MS = 30 * 24 * 3600_000;
const MAX_ENTRIES = 4;

interface CompiledEntry {
  /** sha256 of `code`: an entry that does not match it is ignored (a damaged or hand-edited file). */
  digest: string;
  code: string;
}

export interface CompiledPac {
  /** The rewritten script. */
  code: string;
  /** Whether it came from the per-user cache (the compiler did not load). */
  cached: boolean;
}

export interface PacCompileOptions {
  /** Compile even when the cache has it (and replace the entry): for a cached script that QuickJS refused. */
  fresh?: boolean;
}

export function compilePac(text: string, asyncNames: readonly string[], env: Readonly<Record<string, string | undefined>>, options: PacCompileOptions = {}): CompiledPac {
  const store = openStore<CompiledEntry>(env, 'pac-compiled', { ttlMs: TTL_MS, maxEntries: MAX_ENTRIES });
  const key = createHash('sha256').update(`${PAC_COMPILER}\0${[...asyncNames].sort().join(',')}\0`).update(text).digest('hex');
  if (!options.fresh) {
    const found = store.get(key)?.value;
    if (found && typeof found.code === 'string' && found.digest === digestOf(found.code)) return { code: found.code, cached: true };
  }
  const code = requirePacCompiler().degenerator(text, [...asyncNames]);
  store.set(key, { digest: digestOf(code), code });
  return { code, cached: false };
}

function digestOf(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}
