// One temporary directory for the whole test run, removed at the end: the per-process HOME and cache directories of
// peers/env.ts live inside it (vitest ends its workers without running their exit handlers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-tests-'));
  process.env.BURROW_TEST_TMP = dir;
  // What in-process tests remember (a PAC loaded in a unit test caches its compiled form) stays out of ~/.cache too.
  process.env.XDG_CACHE_HOME = join(dir, 'cache');
  return () => rmSync(dir, { recursive: true, force: true });
}
