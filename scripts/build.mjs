// Bundles src/ into dist/ with esbuild. ESM (yargs 18 is ESM-only and a CJS bundle of it breaks on
// createRequire(import.meta.url), REFERENCE.md §4); code splitting keeps every lazily imported command in its own
// chunk so that `burrow connect` parses and loads only what it runs. npm packages stay external: they load from
// node_modules only when a code path imports them.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { assertNoPacCompiler, leaveOutPacCompiler } from './esbuild-pac.mjs';

// Build beside dist/ and copy in at the end, so that a burrow already running (a test, an ssh session) never finds
// dist/ half-written or its lazily loaded chunks gone.
const outdir = `dist.tmp-${process.pid}`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { burrow: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  sourcemap: 'linked',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});

// `burrow connect` again, as one CommonJS file for bin/burrow: no ESM loader on the ProxyCommand path (~10 ms of
// every start on Node 20). Lazily imported modules are inlined but only evaluated when reached. The banner must begin
// with "use strict" (the ESM sources assume strict mode), and import.meta.url is rebuilt for createRequire().
await build({
  entryPoints: { connect: 'src/cli/connect-main.ts' },
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  sourcemap: 'linked',
  outExtension: { '.js': '.cjs' },
  // bin/burrow runs this file through vm.Script (for V8's code cache), where import() has no loader: external
  // packages imported lazily (socks, kerberos) become require() calls, which also load ES modules on Node >= 20.19.
  supported: { 'dynamic-import': false },
  // Less to parse on every ssh session start; names stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  banner: { js: '"use strict";const __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__import_meta_url' },
  logLevel: 'warning',
});

// The PAC engine, as one CommonJS file that src/runtime/packages.ts loads only when a PAC is evaluated (as ES modules
// from node_modules they cost ~110 ms of Node's ESM loader per run): QuickJS (quickjs-wasi) and pac-resolver's
// built-in PAC functions (shExpMatch, dnsDomainIs, ...), ~65 KB. pac-resolver's index also imports degenerator (with
// esprima, escodegen and ast-types, ~440 KB) for its compile(), which burrow does not use: leaveOutPacCompiler
// (scripts/esbuild-pac.mjs) leaves them out. quickjs-wasi is given
// quickjs.wasm's bytes by src/route/pac.ts (it cannot find its own file from inside a bundle): the build copies it
// to dist/quickjs.wasm.
await build({
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  minifyWhitespace: true,
  logLevel: 'error',
  stdin: { contents: "export { QuickJS } from 'quickjs-wasi'; export { sandbox } from 'pac-resolver';", resolveDir: '.', loader: 'js' },
  outfile: `${outdir}/pac-engine.cjs`,
  plugins: [leaveOutPacCompiler],
});
{
  const { copyFileSync, readFileSync } = await import('node:fs');
  assertNoPacCompiler(readFileSync(`${outdir}/pac-engine.cjs`, 'utf8'), 'pac-engine.cjs');
  // quickjs.wasm from the very quickjs-wasi bundled above: its JavaScript and its WebAssembly must be of one version
  // (an install may bring a newer quickjs-wasi than the build had), and dist/ needs no package lookup to find it.
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  copyFileSync(join(dirname(createRequire(import.meta.url).resolve('quickjs-wasi/package.json')), 'quickjs.wasm'), `${outdir}/quickjs.wasm`);
}

// The demo reuses the test suite's Node peers (a CONNECT proxy, an SSH server); bundled so plain `node` runs it.
await build({
  entryPoints: { demo: 'scripts/demo.ts', bench: 'bench/main.ts', 'bench-forward': 'bench/forward.ts', soak: 'bench/soak.ts' },
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});

// Chunk names carry content hashes, so old and new chunks can sit side by side: copy the new files over the old
// ones (a running process keeps finding the chunks it started with), then drop the staging directory.
const { cpSync, existsSync, readdirSync, statSync } = await import('node:fs');
cpSync(outdir, 'dist', { recursive: true });
// Old chunks stay for processes started in the last minutes, then go, so dist/ does not grow without end. With
// --clean (npm's prepack) they go at once: the package must carry only the chunks of the build it ships.
const keepMs = process.argv.includes('--clean') ? 0 : 10 * 60 * 1000;
const fresh = new Set(existsSync(`${outdir}/chunks`) ? readdirSync(`${outdir}/chunks`) : []);
for (const name of existsSync('dist/chunks') ? readdirSync('dist/chunks') : []) {
  const path = `dist/chunks/${name}`;
  if (!fresh.has(name) && Date.now() - statSync(path).mtimeMs >= keepMs) rmSync(path, { force: true });
}
// V8 code caches of earlier connect.cjs bundles (bin/burrow names each after its bundle's hash): never valid again.
for (const name of readdirSync('dist')) if (/^connect\.cjs\..*v8cache/.test(name)) rmSync(`dist/${name}`, { force: true });
rmSync(outdir, { recursive: true, force: true });
