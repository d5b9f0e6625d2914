// pac-resolver's index imports degenerator (with esprima, escodegen and ast-types, ~440 KB) for its
// createPacResolver(), which burrow does not use (src/route/pac-dns.ts says why). Marked free of side effects, they
// are left out of any bundle that takes only pac-resolver's PAC functions: dist/pac-engine.cjs (scripts/build.mjs)
// and the single executable (scripts/build-exe.mjs).
const compilerOnly = /^(degenerator|esprima|escodegen|ast-types)$/;

export const leaveOutPacCompiler = {
  name: 'leave-out-pac-compiler',
  setup(build) {
    build.onResolve({ filter: compilerOnly }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'resolving' });
      return { ...found, sideEffects: false };
    });
  },
};

/** Throws when `text`, a bundle, carries the compiler all the same (the tree-shaking above stopped working). */
export function assertNoPacCompiler(text, what) {
  if (/esprima|escodegen/.test(text)) throw new Error(`build: ${what} carries the PAC compiler (degenerator): the tree-shaking in scripts/esbuild-pac.mjs no longer works`);
}
