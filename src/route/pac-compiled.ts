import { createHash } from 'node:crypto';
import { openStore } from '../state/store.ts';

// QuickJS's bytecode of a PAC script, kept in the per-user store (src/state/store.ts: 0600, ignored when corrupt)
// under a hash of the text and the QuickJS build: QuickJS's own parse is most of what a cold evaluation costs once the
// engine is up (~10 ms, mostly compiling QuickJS's parser from WebAssembly), and a PAC seen before skips it. A changed
// PAC is another key. An entry is written only once QuickJS has run the code, and one whose digest does not match,
// or that QuickJS refuses, is compiled again. Kept bytecode only ever runs inside QuickJS, like fresh code: the
// sandbox does not depend on where it came from.

/** The QuickJS build whose bytecode is kept (a test checks it against node_modules): another build, another key. */
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
  /** The script's text. */
  code: string;
  /** QuickJS bytecode of what pac.ts evaluates, when the cache had it. */
  bytecode?: Uint8Array;
  /** Whether it came from the per-user cache. */
  cached: boolean;
  /** Keeps the bytecode QuickJS made of the code for later runs (once QuickJS has run it). */
  keep(bytecode: Uint8Array | undefined): void;
}

export interface PacCompileOptions {
  /** Compile even when the cache has it: for a cached entry that QuickJS refused. */
  fresh?: boolean;
}

export function compilePac(text: string, env: Readonly<Record<string, string | undefined>>, options: PacCompileOptions = {}): CompiledPac {
  const store = openStore<CompiledEntry>(env, 'pac-compiled', { ttlMs: TTL_MS, maxEntries: MAX_ENTRIES });
  const key = createHash('sha256').update(`${PAC_QUICKJS}\0`).update(text).digest('hex');
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
  return { code: text, cached: false, keep: keep(text) };
}

/** What an entry's digest covers: the code and the bytecode (base64), as stored. */
export function compiledDigest(code: string, bytecode: string | undefined): string {
  return createHash('sha256').update(code).update('\0').update(bytecode ?? '').digest('hex');
}
