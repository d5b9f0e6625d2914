// npm packages that synchronous code loads on first use, from node_modules beside dist/ (a static import would load
// them on every start, and the ProxyCommand path must not pay for pino or NTLM it does not use). The single
// executable has no node_modules: scripts/build-exe.mjs swaps this file for packages-sea.ts, whose plain require()
// calls esbuild can see and bundle. Both files export the same functions.

function requireBesideDist(name: string): unknown {
  // node:module is fetched only here: importing it at the top loads Node's ESM loader on every start.
  return process.getBuiltinModule('node:module').createRequire(import.meta.url)(name);
}

export function requirePino(): typeof import('pino') {
  return requireBesideDist('pino') as typeof import('pino');
}

export function requireNtlmClient(): unknown {
  return requireBesideDist('@ewsjs/ntlm-client');
}

/** What dist/pac-engine.cjs exports (scripts/build.mjs): QuickJS and pac-resolver's built-in PAC functions. */
export interface PacEngine {
  QuickJS: typeof import('quickjs-wasi').QuickJS;
  sandbox: typeof import('pac-resolver').sandbox;
}

/**
 * The PAC engine, from dist/pac-engine.cjs where the build made it: quickjs-wasi and pac-resolver are ES modules, and
 * loading them through Node's ESM loader took ~110 ms of a PAC run's ~240 ms; bundled as one CommonJS file they load
 * in ~5 ms. Run from source (the tests), or with the file missing, the packages themselves are loaded.
 */
export function requirePacEngine(): PacEngine {
  const bundled = besideDist('pac-engine.cjs');
  if (bundled) return requireBesideDist(bundled) as PacEngine;
  const { QuickJS } = requireBesideDist('quickjs-wasi') as typeof import('quickjs-wasi');
  const { sandbox } = requireBesideDist('pac-resolver') as typeof import('pac-resolver');
  return { QuickJS, sandbox };
}

/**
 * quickjs-wasi's WebAssembly file: dist/quickjs.wasm, which the build copies from the quickjs-wasi it bundles into
 * dist/pac-engine.cjs (the two must be of one version); from source, the package's own.
 */
export function quickjsWasmFile(): string {
  const copied = besideDist('quickjs.wasm');
  if (copied) return copied;
  const packageJson = process.getBuiltinModule('node:module').createRequire(import.meta.url).resolve('quickjs-wasi/package.json');
  return process.getBuiltinModule('node:path').join(packageJson, '..', 'quickjs.wasm');
}

/** A file the build put in dist/, from code in dist/connect.cjs, dist/burrow.mjs or a chunk in dist/chunks/. */
function besideDist(name: string): string | undefined {
  const { existsSync } = process.getBuiltinModule('node:fs');
  const { fileURLToPath } = process.getBuiltinModule('node:url');
  for (const relative of [`./${name}`, `../${name}`]) {
    const file = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** The optional native `kerberos` package; rejects when it is not installed (or not built). */
export async function importKerberos(): Promise<unknown> {
  const name = 'kerberos'; // not a literal import: esbuild must not try to bundle or resolve it
  return import(name);
}
