// The compiled-PAC cache (src/route/pac-compiled.ts): QuickJS's bytecode of a PAC, kept per (content, QuickJS build)
// in the per-user store. Keyed on content (a changed PAC is obeyed at once),
// ignored when damaged, and whatever it holds runs inside QuickJS like a fresh compile (the sandbox does not depend on
// where the code came from).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledDigest, compilePac, PAC_QUICKJS } from '../../src/route/pac-compiled.ts';
import { loadPac } from '../../src/route/pac.ts';
import { makeTarget } from '../../src/route/target.ts';
import { openStore } from '../../src/state/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'burrow-pac-compiled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
/** A fresh per-user state directory and a PAC file to go with it. */
function setup(body: string): { env: Record<string, string>; pac: string; storeFile: string } {
  const n = ++count;
  const env = { XDG_CACHE_HOME: join(dir, `cache-${n}`) };
  const pac = join(dir, `proxy-${n}.pac`);
  writeFileSync(pac, body);
  return { env, pac, storeFile: join(env.XDG_CACHE_HOME, 'burrow', 'pac-compiled.json') };
}
const answer = async (pac: string, env: Record<string, string>, host = 'a.example') => (await (await loadPac(pac, readFileSync(pac, 'utf8'), 5000, env)).evaluate(makeTarget(host, 22))).answer;

describe('PAC scripts run as written', () => {
  it('syntax that degenerator (pac-resolver\'s rewriter) refused runs: an arrow function called at once, const, templates', async () => {
    // degenerator threw "Don't know how to get name for: ArrowFunctionExpression" on the first script.
    const { env, pac } = setup('function FindProxyForURL(u, h) { return (() => "PROXY arrow.example:3")(); }');
    expect(await answer(pac, env)).toBe('PROXY arrow.example:3');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the PAC script's own template literal
    const modern = setup('const port = 8080;\nconst FindProxyForURL = (u, h) => isInNet(dnsResolve(h), "127.0.0.0", "255.0.0.0") ? `PROXY lo.example:${port}` : "DIRECT";');
    expect(await answer(modern.pac, modern.env, 'localhost')).toBe('PROXY lo.example:8080');
    expect(await answer(modern.pac, modern.env, '192.0.2.1')).toBe('DIRECT');
  });
});

describe('compiled PAC cache', () => {
  it('is keyed on the content: the second load of a PAC comes from the cache, a changed PAC is compiled and obeyed at once', async () => {
    const { env, pac } = setup('function FindProxyForURL(u, h) { return "PROXY first.example:1"; }');
    const text = readFileSync(pac, 'utf8');
    expect(compilePac(text, env).cached).toBe(false);
    // Kept only once QuickJS has run it, with its bytecode.
    expect(compilePac(text, env).cached).toBe(false);
    expect(await answer(pac, env)).toBe('PROXY first.example:1');
    const kept = compilePac(text, env);
    expect(kept.cached).toBe(true);
    expect(kept.bytecode?.length).toBeGreaterThan(0);
    expect(await answer(pac, env)).toBe('PROXY first.example:1');

    writeFileSync(pac, 'function FindProxyForURL(u, h) { return "PROXY second.example:2"; }');
    expect(await answer(pac, env)).toBe('PROXY second.example:2');
    expect(compilePac(readFileSync(pac, 'utf8'), env).cached).toBe(true);
  });

  it('DNS functions called through the script\'s own functions answer alike from fresh code and from the cache', async () => {
    const { env, pac } = setup(`
function local(h) { return isInNet(dnsResolve(h), "127.0.0.0", "255.0.0.0"); }
function FindProxyForURL(url, host) {
  if (local("localhost") && isResolvable("localhost")) return "PROXY " + myIpAddress() + ":" + (local(host) ? 1 : 2);
  return "DIRECT";
}`);
    const text = readFileSync(pac, 'utf8');
    expect(compilePac(text, env).code).toBe(text);
    const fresh = await answer(pac, env, '127.0.0.9');
    expect(fresh).toMatch(/^PROXY \d+\.\d+\.\d+\.\d+:1$/);
    expect(compilePac(text, env).cached).toBe(true);
    expect(await answer(pac, env, '127.0.0.9')).toBe(fresh);
    expect(await answer(pac, env, '192.0.2.1')).toMatch(/:2$/);
  });

  it('ignores a damaged store file, an entry whose code does not match its digest, and code QuickJS refuses', async () => {
    const { env, pac, storeFile } = setup('function FindProxyForURL(u, h) { return "PROXY right.example:1"; }');
    const text = readFileSync(pac, 'utf8');
    expect(await answer(pac, env)).toBe('PROXY right.example:1');

    writeFileSync(storeFile, '{"format":1,"entries":{"');
    expect(await answer(pac, env)).toBe('PROXY right.example:1');
    expect(compilePac(text, env).cached).toBe(true); // rewritten by the load above

    const store = JSON.parse(readFileSync(storeFile, 'utf8')) as { entries: Record<string, { value: { code: string; digest: string; bytecode?: string } }> };
    const [key] = Object.keys(store.entries);
    // Another answer under the right key, but the digest of the original code: not believed.
    store.entries[key!]!.value.code = 'function FindProxyForURL(u, h) { return "PROXY wrong.example:1"; }';
    delete store.entries[key!]!.value.bytecode;
    writeFileSync(storeFile, JSON.stringify(store));
    expect(await answer(pac, env)).toBe('PROXY right.example:1');

    // Code that matches its digest but does not run (a syntax error), and bytecode that is not bytecode: compiled
    // again, once.
    const broken = 'function FindProxyForURL(u, h) { return';
    plant(env, key!, broken);
    expect(await answer(pac, env)).toBe('PROXY right.example:1');
    expect(compilePac(text, env).code).not.toBe(broken);
    plant(env, key!, 'function FindProxyForURL(u, h) { return "PROXY right.example:1"; }', Buffer.from('not bytecode at all').toString('base64'));
    expect(await answer(pac, env)).toBe('PROXY right.example:1');
    expect(compilePac(text, env).bytecode?.length).toBeGreaterThan(30);
  });

  it('keeps the sandbox: require, process, fetch and Node globals are absent, whether the code is fresh or cached', async () => {
    const probe = `function FindProxyForURL(u, h) {
  var seen = [typeof require, typeof process, typeof globalThis.fetch, typeof module, typeof Buffer, typeof setTimeout, typeof console];
  return "PROXY " + seen.join("-") + ".example:1";
}`;
    const { env, pac, storeFile } = setup(probe);
    const nothing = 'PROXY undefined-undefined-undefined-undefined-undefined-undefined-undefined.example:1';
    expect(await answer(pac, env)).toBe(nothing);
    expect(await answer(pac, env)).toBe(nothing); // from the cache

    // Even code planted in the cache under this PAC's key (with a matching digest) runs inside QuickJS.
    const planted = `function FindProxyForURL(u, h) { try { return "PROXY " + require("node:fs").readFileSync("/etc/passwd", "utf8").length + ".example:1"; } catch (e) { return "PROXY " + e.name + ".example:1"; } }`;
    const key = Object.keys((JSON.parse(readFileSync(storeFile, 'utf8')) as { entries: object }).entries)[0]!;
    plant(env, key, planted);
    expect(await answer(pac, env)).toBe('PROXY ReferenceError.example:1');
    // ... and so does its bytecode, kept by that run.
    expect(compilePac(readFileSync(pac, 'utf8'), env).bytecode?.length).toBeGreaterThan(0);
    expect(await answer(pac, env)).toBe('PROXY ReferenceError.example:1');
  });

  it('names the QuickJS build actually installed (part of the key)', () => {
    const version = (name: string) => (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
    expect(PAC_QUICKJS).toBe(`quickjs-wasi ${version('quickjs-wasi')}`);
  });
});

/** Writes an entry with a matching digest under `key`, as a damaged or hand-made cache could hold. */
function plant(env: Record<string, string>, key: string, code: string, bytecode?: string): void {
  openStore(env, 'pac-compiled', { ttlMs: 60_000 }).set(key, { digest: compiledDigest(code, bytecode), code, ...(bytecode ? { bytecode } : {}) });
}
