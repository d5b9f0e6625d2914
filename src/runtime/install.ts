import { VERSION } from '../version.ts';

// How this burrow was installed, for `burrow --version` and for the words that start it again (inject.ts): a Node
// single executable application (dist/exe, `npm run build:exe`), an npm package installed globally or into a
// project's node_modules, or a checkout of the source (bin/burrow beside src/).

export type InstallKind = 'single executable' | 'npm global' | 'npm package' | 'from source';

/** Whether this process is the single executable (node:sea exists from Node 20.12; getBuiltinModule from 20.16). */
export function isSingleExecutable(): boolean {
  const sea = process.getBuiltinModule('node:sea') as typeof import('node:sea') | undefined;
  return sea?.isSea() ?? false;
}

/** A file embedded in the single executable (build-exe.mjs lists them), or undefined outside one. */
export function embeddedAsset(name: string): ArrayBuffer | undefined {
  if (!isSingleExecutable()) return undefined;
  const sea = process.getBuiltinModule('node:sea') as typeof import('node:sea');
  return sea.getAsset(name);
}

/**
 * Pure: the install kind from where burrow's own code lies (symbolic links resolved, as Node resolves them when it
 * loads a module). npm leaves no marker, so the path is the evidence: `npm install -g` puts the package in
 * PREFIX/lib/node_modules (POSIX) or PREFIX/node_modules with PREFIX ending in npm (Windows); anything else under a
 * node_modules/burrow is a project's dependency; elsewhere it is a checkout of the source.
 */
export function installKindOf(single: boolean, codeFile: string): InstallKind {
  if (single) return 'single executable';
  const path = codeFile.replace(/\\/g, '/');
  if (!path.includes('/node_modules/burrow/')) return 'from source';
  return /\/lib\/node_modules\/burrow\/|\/npm\/node_modules\/burrow\//i.test(path) ? 'npm global' : 'npm package';
}

/** `burrow --version`: the version, then how it was installed and where. */
export function versionText(): string {
  const single = isSingleExecutable();
  const codeFile = single ? process.execPath : process.getBuiltinModule('node:url').fileURLToPath(import.meta.url);
  const node = single ? `Node ${process.version} built in` : `Node ${process.version} at ${process.execPath}`;
  const where = single ? process.execPath : codeFile.replace(/[\\/]dist[\\/].*$/, '');
  return `burrow ${VERSION}\ninstalled: ${installKindOf(single, codeFile)} at ${where} (${node}; ${process.platform}-${process.arch})`;
}
