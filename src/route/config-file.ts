import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BurrowError } from '../errors.ts';
import type { BurrowConfig } from './config.ts';
import type { Environment } from './environment.ts';

/** $XDG_CONFIG_HOME/burrow/config.yaml, else ~/.config/burrow/config.yaml (XDG's default). */
export function defaultConfigPath(env: Environment): string | undefined {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'burrow', 'config.yaml');
  const home = env.HOME || (env === process.env ? process.getBuiltinModule('node:os').homedir() : undefined);
  return home ? join(home, '.config', 'burrow', 'config.yaml') : undefined;
}

/**
 * The config file: `file` (--config, must exist), else the default path if a file is there. The common case — no
 * config file — costs one failed open(); the YAML parser and config.ts load only when a file is there.
 */
export async function loadConfig(file: string | undefined, env: Environment): Promise<BurrowConfig | undefined> {
  const explicit = file !== undefined;
  const path = explicit ? file : defaultConfigPath(env);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!explicit && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    throw new BurrowError('usage', `cannot read the config file ${path}: ${code ?? String(error)}`, {
      hint: explicit ? 'check the --config path' : 'fix its permissions, or give another file with --config',
    });
  }
  const { parseConfig } = await import('./config.ts');
  return parseConfig(text, path);
}
