import { chmodSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetNetworkFingerprint, keyedDigest, openStore, stateDir } from '../../src/state/store.ts';

const dirs: string[] = [];
function env(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-state-'));
  dirs.push(dir);
  return { XDG_CACHE_HOME: dir };
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  forgetNetworkFingerprint();
});

describe('per-user state store', () => {
  it('remembers per key for its TTL, in a 0600 file inside a 0700 directory', () => {
    const e = env();
    const store = openStore<{ n: number }>(e, 'things', { ttlMs: 60_000 });
    store.set('a', { n: 1 }, 1_000);
    expect(store.get('a', 2_000)).toEqual({ value: { n: 1 }, at: 1_000 });
    expect(store.get('a', 62_000)).toBeUndefined();
    expect(store.get('b', 2_000)).toBeUndefined();
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir(e)).mode & 0o777).toBe(0o700);
    store.delete('a');
    expect(store.get('a', 2_000)).toBeUndefined();
  });

  it('does not believe an entry from the future (clock moved back)', () => {
    const store = openStore<number>(env(), 'clock', { ttlMs: 60_000 });
    store.set('k', 1, 10_000);
    expect(store.get('k', 5_000)).toBeUndefined();
  });

  it('keeps only the newest entries', () => {
    const store = openStore<number>(env(), 'few', { ttlMs: 60_000, maxEntries: 2 });
    store.set('a', 1, 1_000);
    store.set('b', 2, 2_000);
    store.set('c', 3, 3_000);
    expect(store.get('a', 3_000)).toBeUndefined();
    expect(store.get('c', 3_000)?.value).toBe(3);
  });

  it.each([
    ['not JSON', 'garbage{'],
    ['another format', JSON.stringify({ format: 99, entries: { k: { at: 1_000, value: 1 } } })],
    ['null', 'null'],
  ])('ignores a corrupt file (%s) and replaces it on write', (_name, text) => {
    const e = env();
    const store = openStore<number>(e, 'bad', { ttlMs: 60_000 });
    mkdirSync(stateDir(e), { recursive: true });
    writeFileSync(store.file, text);
    expect(store.get('k', 1_000)).toBeUndefined();
    store.set('k', 2, 1_000);
    expect(store.get('k', 1_000)?.value).toBe(2);
  });

  it('does not follow a symlink planted where the file should be', () => {
    const e = env();
    const store = openStore<number>(e, 'link', { ttlMs: 60_000 });
    const elsewhere = join(e.XDG_CACHE_HOME!, 'elsewhere.json');
    writeFileSync(elsewhere, JSON.stringify({ format: 1, entries: { k: { at: 1_000, value: 7 } } }));
    mkdirSync(stateDir(e), { recursive: true });
    symlinkSync(elsewhere, store.file);
    expect(store.get('k', 1_000)).toBeUndefined();
    store.set('k', 3, 1_000);
    // The write replaced the link; the file it pointed to is untouched.
    expect(JSON.parse(readFileSync(elsewhere, 'utf8')).entries.k.value).toBe(7);
  });

  it('a digest depends on every part and on the per-user key, never shows the parts', () => {
    const e = env();
    const one = keyedDigest(e, 'http://proxy:3128', 'alice', 'secret');
    expect(keyedDigest(e, 'http://proxy:3128', 'alice', 'secret')).toBe(one);
    expect(keyedDigest(e, 'http://proxy:3128', 'alice', 'Secret')).not.toBe(one);
    expect(keyedDigest(e, 'http://proxy:3128', 'alic', 'esecret')).not.toBe(one);
    expect(keyedDigest(env(), 'http://proxy:3128', 'alice', 'secret')).not.toBe(one);
    expect(one).not.toContain('secret');
    expect(statSync(join(stateDir(e), 'key')).mode & 0o777).toBe(0o600);
  });

  it('an unwritable directory costs nothing but the memory', () => {
    const e = env();
    mkdirSync(stateDir(e), { recursive: true });
    chmodSync(stateDir(e), 0o500);
    const store = openStore<number>(e, 'ro', { ttlMs: 60_000 });
    expect(() => store.set('k', 1)).not.toThrow();
    chmodSync(stateDir(e), 0o700);
  });
});
