// `burrow completion bash` sourced into a real bash, then its completion function called the way bash calls it on
// <TAB> (COMP_WORDS/COMP_CWORD set, COMPREPLY read back): the candidates come from the built burrow on PATH.
// zsh and fish are not installed here; their scripts are checked as text in test/unit/completion.test.ts.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BURROW, cleanEnv, runBurrow } from '../helpers/run-burrow.ts';

const HAVE_BASH = spawnSync('bash', ['--version']).status === 0;

/** The words bash would offer for the command line WORDS, the last one being completed. */
function complete(words: string[]): { candidates: string[]; stderr: string; status: number | null } {
  const script = [
    'source <(burrow completion bash) || exit 3',
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_burrow_completions',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's array expansion, not a template
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
    env: cleanEnv({ PATH: `${dirname(BURROW)}:${dirname(process.execPath)}:/usr/bin:/bin` }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { candidates: result.stdout.split('\n').filter(Boolean), stderr: result.stderr, status: result.status };
}

describe.skipIf(!HAVE_BASH)('burrow completion bash, sourced into bash', () => {
  it('completes the command names', () => {
    const { candidates, stderr, status } = complete(['burrow', '']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(candidates).toEqual(expect.arrayContaining(['route', 'forward', 'doctor', 'exec', 'tsh', 'ssh-config', 'completion']));
  });

  it('completes a prefix to the one command it names', () => {
    expect(complete(['burrow', 'ss']).candidates).toEqual(['ssh-config']);
  });

  it('completes a command\'s options', () => {
    const { candidates } = complete(['burrow', 'doctor', '--kn']);
    expect(candidates).toEqual(['--known-hosts']);
    expect(complete(['burrow', 'forward', '--drain']).candidates).toEqual(['--drain-seconds']);
  });

  it('completes the shells of burrow completion', () => {
    expect(complete(['burrow', 'completion', '']).candidates.filter((c) => !c.startsWith('-')).sort()).toEqual(['bash', 'fish', 'zsh']);
  });

  it('completes one-letter options as -x, never --x, the count option -v included', () => {
    const dash = complete(['burrow', 'doctor', '-']).candidates;
    expect(dash).toEqual(expect.arrayContaining(['-x', '-v', '-q', '--proxy', '--verbose', '--quiet']));
    expect(dash.filter((c) => /^--.$/.test(c))).toEqual([]);
    const dashes = complete(['burrow', 'route', '--']).candidates;
    expect(dashes).toEqual(expect.arrayContaining(['--proxy', '--verbose', '--quiet']));
    expect(dashes.filter((c) => /^--.$/.test(c))).toEqual([]);
    expect(complete(['burrow', 'forward', '-']).candidates).toEqual(expect.arrayContaining(['-L', '-D', '-x', '-v', '-q']));
  });
});

// zsh and fish are not installed here: the words burrow answers them with (the scripts set SHELL for that call).
describe('the words burrow answers each shell with', () => {
  it.each([
    ['zsh', ':'],
    ['fish', '\t'],
    ['bash', ''],
  ])('%s: one-letter options as -x with their long option\'s description', async (shell, separator) => {
    for (const current of ['-', '--']) {
      const result = await runBurrow(['--get-yargs-completions', 'burrow', 'forward', current], { env: cleanEnv({ SHELL: `/bin/${shell}` }) });
      expect(result.code).toBe(0);
      const words = result.stdout.toString().split('\n').filter(Boolean);
      const names = words.map((w) => (separator ? w.split(separator)[0] : w));
      expect(names).toEqual(expect.arrayContaining(['-L', '-D', '-x', '-v', '-q', '--local', '--proxy', '--verbose']));
      expect(names.filter((n) => /^--.$/.test(n!))).toEqual([]);
      const x = words.find((w) => w.startsWith(`-x${separator}`));
      const proxy = words.find((w) => w.startsWith(`--proxy${separator}`));
      expect(x!.slice(2)).toBe(proxy!.slice(7));
    }
  });
});
