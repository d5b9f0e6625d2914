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

/**
 * pac-resolver, from dist/pac-engine.cjs where the build made it: pac-resolver and degenerator are ES modules, and
 * loading them through Node's ESM loader took ~110 ms of a PAC run's ~240 ms; the same code bundled as one CommonJS
 * file loads in ~25 ms. Run from source (the tests), or with the file missing, the package itself is loaded.
 */
export function requirePacResolver(): typeof import('pac-resolver') {
  const { existsSync } = process.getBuiltinModule('node:fs');
  const { fileURLToPath } = process.getBuiltinModule('node:url');
  // This code sits in dist/connect.cjs, dist/burrow.mjs or a chunk in dist/chunks/.
  for (const relative of ['./pac-engine.cjs', '../pac-engine.cjs']) {
    const file = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(file)) return requireBesideDist(file) as typeof import('pac-resolver');
  }
  return requireBesideDist('pac-resolver') as typeof import('pac-resolver');
}

/** The optional native `kerberos` package; rejects when it is not installed (or not built). */
export async function importKerberos(): Promise<unknown> {
  const name = 'kerberos'; // not a literal import: esbuild must not try to bundle or resolve it
  return import(name);
}
