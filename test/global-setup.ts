// One temporary directory for the whole test run, removed at the end: the per-process HOME and cache directories of
// peers/env.ts live inside it (vitest ends its workers without running their exit handlers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-tests-'));
  process.env.BURROW_TEST_TMP = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
