import { describe, expect, it } from 'vitest';
import { installKindOf } from '../../src/runtime/install.ts';

describe('installKindOf: how burrow was installed, from where its code lies', () => {
  it.each([
    [true, '/opt/bin/burrow-linux-x64', 'single executable'],
    [false, '/usr/local/lib/node_modules/burrow/dist/chunks/x.mjs', 'npm global'],
    [false, '/home/a/.npm-global/lib/node_modules/burrow/dist/connect.cjs', 'npm global'],
    [false, 'C:\\Users\\a\\AppData\\Roaming\\npm\\node_modules\\burrow\\dist\\burrow.mjs', 'npm global'],
    [false, '/home/a/project/node_modules/burrow/dist/burrow.mjs', 'npm package'],
    [false, '/home/a/src/burrow/dist/burrow.mjs', 'from source'],
    [false, '/home/a/src/burrow/src/runtime/install.ts', 'from source'],
  ] as const)('%s %s -> %s', (single, file, kind) => {
    expect(installKindOf(single, file)).toBe(kind);
  });
});
