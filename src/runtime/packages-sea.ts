import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PacEngine } from './packages.ts';

// packages.ts for the single executable (scripts/build-exe.mjs substitutes this file): pure-JS packages are
// bundled into it, so these are plain require() calls that esbuild resolves at build time and that run only when
// called. Native add-ons cannot be embedded: `kerberos` is looked for in a node_modules directory beside the
// executable (built for the same Node major version), and is otherwise absent.

export function requirePino(): typeof import('pino') {
  return require('pino') as typeof import('pino');
}

export function requireNtlmClient(): unknown {
  return require('@ewsjs/ntlm-client');
}

export function requirePacEngine(): PacEngine {
  // pac-sandbox-sea.ts imports only pac-resolver's PAC functions, so the build leaves its compiler out (esbuild-pac.mjs).
  return { QuickJS: (require('quickjs-wasi') as typeof import('quickjs-wasi')).QuickJS, sandbox: (require('./pac-sandbox-sea.ts') as typeof import('./pac-sandbox-sea.ts')).sandbox };
}

/** Never read: the executable carries quickjs.wasm as an asset (src/route/pac.ts asks for that first). */
export function quickjsWasmFile(): string {
  return join(dirname(process.execPath), 'quickjs.wasm');
}

export async function importKerberos(): Promise<unknown> {
  // The executable's own require() loads only built-in modules; one rooted beside it reads node_modules there.
  return createRequire(join(dirname(process.execPath), 'burrow-native.cjs'))('kerberos');
}
