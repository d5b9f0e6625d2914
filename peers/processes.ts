// Finding the processes a test started, whatever they became: burrow renames its process title (no arguments in
// `ps`), and a background relay gets a new parent. Every process inherits its parent's environment, so a marker
// variable set for the session finds them all.
import { readdirSync, readFileSync } from 'node:fs';

/** Processes whose environment holds `entry` (NAME=VALUE), with their command lines (process titles for burrow). */
export function processesWithEnv(entry: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(entry)) continue;
      found.push({ pid: Number(name), cmdline: readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').join(' ').trim() });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
