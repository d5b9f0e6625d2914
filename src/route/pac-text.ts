import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BurrowError } from '../errors.ts';
import { pacError, PAC_MAX_BYTES } from './pac-fetch.ts';
import type { PacScriptOrigin } from './pac-scripts.ts';

// A PAC's text, obtained once per run and shared by the remembered answers (pac-memory.ts, keyed on it) and the
// engine (pac.ts, which compiles it only when no answer is remembered): a file is read (cheap next to the engine);
// a URL comes from its kept copy while that is fresh, else from its server (pac-scripts.ts).

type Env = Readonly<Record<string, string | undefined>>;

export interface PacText {
  text: string;
  /** For a URL: fetched, kept or revalidated, and when. */
  origin?: PacScriptOrigin;
}

export async function loadPacText(location: string, timeoutMs: number, env: Env, options: { fresh?: boolean } = {}): Promise<PacText> {
  if (!/^https?:\/\//i.test(location)) return { text: readPacFile(location) };
  // Lazy: only a PAC URL needs the fetcher and the kept copies.
  const { loadPacUrl } = await import('./pac-scripts.ts');
  return loadPacUrl(location, timeoutMs, env, options);
}

function readPacFile(location: string): string {
  const file = location.startsWith('file:') ? fileURLToPath(location) : location;
  try {
    const size = statSync(file).size;
    if (size > PAC_MAX_BYTES) throw pacError(location, `it is ${size} bytes, more than the ${PAC_MAX_BYTES} burrow accepts`);
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof BurrowError) throw error;
    throw pacError(location, (error as NodeJS.ErrnoException).code ?? String(error));
  }
}
