// Bundles src/ into dist/ with esbuild. ESM (yargs 18 is ESM-only and a CJS bundle of it breaks on
// createRequire(import.meta.url), REFERENCE.md §4); code splitting keeps every lazily imported command in its own
// chunk so that `burrow connect` parses and loads only what it runs. npm packages stay external: they load from
// node_modules only when a code path imports them.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { burrow: 'src/cli/main.ts' },
  outdir: 'dist',
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

// The demo reuses the test suite's Node peers (a CONNECT proxy, an SSH server); bundled so plain `node` runs it.
await build({
  entryPoints: { demo: 'scripts/demo.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});
