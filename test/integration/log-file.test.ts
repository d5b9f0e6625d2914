// --log-file is a path on the local disk, often in a shared directory: a link someone else planted there must not
// make burrow append to the file it points at, and a new log (proxies, users, targets) is readable by its owner only.
import { lchownSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBurrow } from '../helpers/run-burrow.ts';

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'burrow-log-file-'));
}

// A route that fails at once (nothing listens on port 1), with something to log at -v.
const failingConnect = (logFile: string) => runBurrow(['connect', '127.0.0.1', '1', '--direct', '-v', '--log-file', logFile], { input: '' });

describe('--log-file', () => {
  it.skipIf(!IS_ROOT)("refuses a symbolic link owned by someone else (exit 2, says why) and leaves the link's target alone", async () => {
    const d = dir();
    const victim = join(d, 'victim');
    writeFileSync(victim, 'untouched\n');
    const link = join(d, 'burrow.log');
    symlinkSync(victim, link);
    lchownSync(link, NOBODY, NOBODY);
    const result = await failingConnect(link);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^burrow: --log-file .*burrow\.log is a symbolic link owned by uid 65534, not by you: burrow does not write through it; hint: /);
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
  });

  it('creates a new log file (and its directory) readable by its owner only, whatever the umask', async () => {
    const path = join(dir(), 'sub', 'burrow.log');
    const result = await failingConnect(path);
    expect(result.code).toBe(5);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8')).toMatch(/refused the TCP connection/);
  });

  it('follows a link that belongs to the user running burrow', async () => {
    const d = dir();
    const real = join(d, 'real.log');
    writeFileSync(real, '', { mode: 0o600 });
    symlinkSync(real, join(d, 'link.log'));
    const result = await failingConnect(join(d, 'link.log'));
    expect(result.code).toBe(5);
    expect(readFileSync(real, 'utf8')).toMatch(/refused the TCP connection/);
  });

  it('refuses a directory', async () => {
    const result = await failingConnect(dir());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^burrow: cannot open --log-file .*: EISDIR; hint: /);
  });
});
