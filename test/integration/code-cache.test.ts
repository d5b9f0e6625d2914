// bin/burrow's V8 code cache for dist/connect.cjs must belong to the exact bundle it was made from: V8 itself checks
// only the source's length, so a rebuilt bundle of the same length (0.1.0 → 0.1.1) would otherwise run the old code.
// Each case copies bin/burrow into a temp tree with a tiny stand-in dist/connect.cjs, so the real dist/ is untouched.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv } from '../helpers/run-burrow.ts';

const BIN = fileURLToPath(new URL('../../bin/', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tree(bundle: string): { root: string; bundle: string; caches: () => string[] } {
  const root = mkdtempSync(join(tmpdir(), 'burrow-code-cache-'));
  dirs.push(root);
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist'));
  copyFileSync(join(BIN, 'burrow'), join(root, 'bin', 'burrow'));
  copyFileSync(join(BIN, 'package.json'), join(root, 'bin', 'package.json'));
  writeFileSync(join(root, 'dist', 'connect.cjs'), bundle);
  return { root, bundle: join(root, 'dist', 'connect.cjs'), caches: () => readdirSync(join(root, 'dist')).filter((n) => n.endsWith('v8cache')) };
}

function runConnect(root: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'burrow'), 'connect'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Large enough that V8 keeps a code cache for it; the same length whatever the letter. Like the real connect, it keeps
// the event loop alive a moment (bin/burrow writes the cache from an unref'd setImmediate, after the first turn).
const bundleSaying = (letter: string) => `'use strict';\nprocess.stdout.write(${JSON.stringify(letter.repeat(8))});\nsetTimeout(() => {}, 100);\n${'function pad() { return [1, 2, 3].map((x) => x * 2); }\n'.repeat(200)}`;

describe('the V8 code cache of dist/connect.cjs', () => {
  it('a same-length rebuild runs the new code, not the cached old one', async () => {
    const t = tree(bundleSaying('A'));
    expect((await runConnect(t.root)).stdout).toBe('AAAAAAAA');
    await expect.poll(() => t.caches().length, { timeout: 10_000 }).toBe(1);
    expect((await runConnect(t.root)).stdout).toBe('AAAAAAAA'); // from the cache
    writeFileSync(t.bundle, bundleSaying('B'));
    const after = await runConnect(t.root);
    expect(after.stderr).toBe('');
    expect(after.stdout).toBe('BBBBBBBB');
  });

  it('concurrent first runs all work and leave one cache for the bundle', async () => {
    const t = tree(bundleSaying('C'));
    const results = await Promise.all(Array.from({ length: 6 }, () => runConnect(t.root)));
    for (const r of results) expect([r.code, r.stdout, r.stderr]).toEqual([0, 'CCCCCCCC', '']);
    await expect.poll(() => t.caches().length, { timeout: 10_000 }).toBe(1);
    expect(readdirSync(join(t.root, 'dist')).filter((n) => n.includes('.v8cache.'))).toEqual([]); // no temp files left
    expect((await runConnect(t.root)).stdout).toBe('CCCCCCCC');
  });
});
