import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Whether a burrow run loaded the PAC engine, observed from outside: a --require hook (NODE_OPTIONS) records every
// require of the engine (QuickJS and the PAC functions, bundled as dist/pac-engine.cjs) or of those packages
// themselves, and of degenerator (pac-resolver's script rewriter, which burrow never loads: src/route/pac-dns.ts).
// A run whose route came from the remembered answers (src/route/pac-memory.ts) records nothing.

const HOOK = `const Module = require('node:module');
const { appendFileSync } = require('node:fs');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^(pac-resolver|quickjs-wasi|degenerator)$/.test(request)) appendFileSync(process.env.ENGINE_LOG, request + '\\n');
  else if (/pac-(engine|compiler)\\.cjs$/.test(request)) appendFileSync(process.env.ENGINE_LOG, request.replace(/.*[\\\\/]/, '') + '\\n');
  return load.call(this, request, ...rest);
};
`;

export interface EngineWatch {
  /** Variables for the run (NODE_OPTIONS, ENGINE_LOG): through ssh they reach its ProxyCommand too. */
  env: Record<string, string>;
  /** What the run loaded of the engine, in order: [] when it loaded nothing. */
  loaded(): string[];
}

/** Writes the hook into `dir`; each call of the result watches one run. */
export function pacEngineSpy(dir: string): () => EngineWatch {
  const hook = join(dir, 'engine-spy.cjs');
  writeFileSync(hook, HOOK);
  let runs = 0;
  return () => {
    const log = join(dir, `engine-${++runs}.log`);
    return {
      env: { NODE_OPTIONS: `--require ${hook}`, ENGINE_LOG: log },
      loaded: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
    };
  };
}
