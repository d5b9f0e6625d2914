#!/usr/bin/env node
// The layering check (issue #9): every import under src/ points down this list, and the import graph has no cycle
// (type-only imports included: a type lives beside its owner). Run by `npm test` and `npm run test:all`.
//
//   cli → wrap, doctor, relay → teleport → dial → credentials → route → core (errors, log, log-file, secrets, version, state, runtime, trust)
//
// wrap, doctor and relay are one layer (the exec bridge is a relay listener); within a layer imports may cross
// directories as long as no cycle forms. A regex finds the imports (`from '…'`, `import('…')`, bare `import '…'`);
// a relative import that names no file under src/ fails the check rather than slipping past it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

const LAYERS = [
  ['core', /^(errors|log|log-file|secrets|version)\.ts$|^(state|runtime|trust)\//],
  ['route', /^route\//],
  ['credentials', /^credentials\//],
  ['dial', /^dial\//],
  ['teleport', /^teleport\//],
  ['wrap/doctor/relay', /^(wrap|doctor|relay)\//],
  ['cli', /^cli\//],
];

function layerOf(file) {
  const index = LAYERS.findIndex(([, pattern]) => pattern.test(file));
  return index;
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.name.endsWith('.ts') ? [relative(src, path)] : [];
  });
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

const files = listFiles(src).sort();
const graph = new Map();
const problems = [];
for (const file of files) {
  const text = readFileSync(join(src, file), 'utf8');
  const edges = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1];
    if (!spec.startsWith('.')) continue; // packages and node: builtins
    const target = relative(src, resolve(dirname(join(src, file)), spec));
    if (!files.includes(target)) {
      problems.push(`${file}: imports ${spec}, which is not a file under src/`);
      continue;
    }
    edges.push(target);
  }
  graph.set(file, [...new Set(edges)]);
}

for (const [file, edges] of graph) {
  const from = layerOf(file);
  if (from < 0) problems.push(`${file}: in no layer (add its directory to scripts/check-layers.mjs)`);
  for (const target of edges) {
    const to = layerOf(target);
    if (from >= 0 && to > from) problems.push(`${file} (${LAYERS[from][0]}) imports ${target} (${LAYERS[to][0]}): a layer pointing up`);
  }
}

// Cycles: a depth-first walk; each cycle is reported once, from its smallest file.
const state = new Map();
const stack = [];
const cycles = new Set();
function visit(file) {
  state.set(file, 'open');
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === 'open') {
      const cycle = stack.slice(stack.indexOf(next));
      const start = cycle.indexOf([...cycle].sort()[0]);
      cycles.add([...cycle.slice(start), ...cycle.slice(0, start), cycle[start]].join(' -> '));
    } else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, 'done');
}
for (const file of files) if (!state.has(file)) visit(file);
for (const cycle of cycles) problems.push(`import cycle: ${cycle}`);

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-layers: ${problem}`);
  process.exit(1);
}
console.log(`check-layers: ${files.length} modules, ${[...graph.values()].reduce((n, e) => n + e.length, 0)} imports, layers respected, no cycle`);
