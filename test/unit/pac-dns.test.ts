// The PAC's DNS functions (src/route/pac-dns.ts): answered from a table, and an evaluation that needs a name the table
// lacks is run again once it is looked up. The loop is tested with plain functions standing in for FindProxyForURL;
// the whole engine (QuickJS, a script that catches the throw) through loadPac.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePacEngine } from '../../src/runtime/packages.ts';
import { loadPac } from '../../src/route/pac.ts';
import { MAX_LOOKUPS, pacDnsFunctions, withLookups, type LookupTable } from '../../src/route/pac-dns.ts';
import { makeTarget } from '../../src/route/target.ts';

const dir = mkdtempSync(join(tmpdir(), 'burrow-pac-dns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { XDG_CACHE_HOME: join(dir, 'cache') };
let count = 0;
async function evaluate(script: string, host: string): Promise<{ answer: string; alerts: string[] }> {
  const file = join(dir, `proxy-${++count}.pac`);
  writeFileSync(file, script);
  return (await loadPac(file, script, 5000, env)).evaluate(makeTarget(host, 22));
}

describe('pac-dns: lookups between runs', () => {
  it('runs once per name missing from the table, then answers from it', async () => {
    const table: LookupTable = { answers: new Map() };
    const fns = pacDnsFunctions(() => table);
    let runs = 0;
    const answer = await withLookups(table, async () => {
      runs++;
      return `${String(fns.dnsResolve!('localhost'))} ${String(fns.isResolvable!('name.invalid'))} ${String(fns.isInNet!('127.0.0.5', '127.0.0.0', '255.0.0.0'))}`;
    });
    expect(answer).toBe('127.0.0.1 false true');
    expect(runs).toBe(3); // localhost, then name.invalid; the address literal needs no lookup
    expect([...table.answers.keys()]).toEqual(['localhost', 'name.invalid']);
  });

  it('discards a run whose throw was caught, and stops a script that wants too many names', async () => {
    const table: LookupTable = { answers: new Map() };
    const fns = pacDnsFunctions(() => table);
    const caught = await withLookups(table, async () => {
      try {
        return `resolved ${String(fns.dnsResolve!('localhost'))}`;
      } catch {
        return 'the catch branch';
      }
    });
    expect(caught).toBe('resolved 127.0.0.1');
    const names: LookupTable = { answers: new Map() };
    const resolve = pacDnsFunctions(() => names).dnsResolve!;
    let n = 0;
    const greedy = withLookups(names, async () => resolve(`n${n++}.invalid`));
    await expect(greedy).rejects.toThrow(/more than/);
    expect(names.answers.size).toBe(MAX_LOOKUPS);
  });

  it('overrides every asynchronous function of pac-resolver: the script sees only synchronous ones', () => {
    const sandbox = requirePacEngine().sandbox as unknown as Record<string, (...args: unknown[]) => unknown>;
    const asyncNames = Object.keys(sandbox).filter((name) => sandbox[name]!.constructor.name === 'AsyncFunction');
    expect(asyncNames.length).toBeGreaterThan(0);
    const ours = pacDnsFunctions(() => ({ answers: new Map() }));
    for (const name of asyncNames) {
      expect(Object.keys(ours)).toContain(name);
      expect(ours[name]!.constructor.name).toBe('Function');
    }
  });

  it('in QuickJS: a script that catches the lookup still answers right; alerts are those of the last run only', async () => {
    const script = `function FindProxyForURL(url, host) {
  alert("asked for " + host);
  var ip;
  try { ip = dnsResolve(host); } catch (e) { ip = "caught"; }
  return ip === "127.0.0.1" ? "PROXY lo.example:1" : "DIRECT " + ip;
}`;
    const result = await evaluate(script, 'localhost');
    expect(result.answer).toBe('PROXY lo.example:1');
    expect(result.alerts).toEqual(['asked for localhost']);
    expect((await evaluate(script, 'name.invalid')).answer).toBe('DIRECT null');
  });
});
