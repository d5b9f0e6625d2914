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

/** The optional native `kerberos` package; rejects when it is not installed (or not built). */
export async function importKerberos(): Promise<unknown> {
  const name = 'kerberos'; // not a literal import: esbuild must not try to bundle or resolve it
  return import(name);
}
