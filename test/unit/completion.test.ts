import { describe, expect, it } from 'vitest';
import { completionScript, completionWords } from '../../src/cli/completion.ts';

describe('completionScript', () => {
  it.each([
    ['bash', /complete -o bashdefault -o default -F _burrow_completions burrow\n/, /SHELL=bash /],
    ['zsh', /^#compdef burrow\n[\s\S]*compdef _burrow_completions burrow\n/, /SHELL=zsh /],
    ['fish', /^# burrow completion for fish[\s\S]*complete -c burrow -f -a /, /env SHELL=fish /],
  ])('%s: registers for burrow and asks burrow with its own SHELL', (shell, registers, asks) => {
    const script = completionScript(shell);
    expect(script).toMatch(registers);
    expect(script).toMatch(asks);
    expect(script).toContain('--get-yargs-completions');
  });

  it('names the program the user types, without its directory or .exe', () => {
    expect(completionScript('bash', '/opt/bin/burrow-linux-x64')).toContain('-F _burrow_linux_x64_completions burrow-linux-x64\n');
    expect(completionScript('fish', 'C:\\\\tools\\\\burrow.exe')).toContain('complete -c burrow ');
  });

  it('refuses another shell with a usage error', () => {
    expect(() => completionScript('tcsh')).toThrow(/no completion for the shell "tcsh"/);
  });

  const aliases = { proxy: ['x'], x: ['proxy'], verbose: ['v'], v: ['verbose'], quiet: ['q'], q: ['quiet'], help: [] };
  it.each<[string, string[], string[]]>([
    // What yargs answers after `--` (bash): short aliases as --x, and no -v for the count option --verbose.
    ['bash, after --', ['--help', '--proxy', '--x', '--verbose', '--quiet', '--q'], ['--help', '--proxy', '-x', '--verbose', '-v', '--quiet', '-q']],
    ['bash, after -', ['--help', '--proxy', '-x', '--verbose', '--quiet', '-q'], ['--help', '--proxy', '-x', '--verbose', '-v', '--quiet', '-q']],
    ['zsh', ['--proxy:proxy URL; a chain', '--x:proxy URL; a chain', '--verbose:more output'], ['--proxy:proxy URL; a chain', '-x:proxy URL; a chain', '--verbose:more output', '-v:more output']],
    ['fish', ['--proxy\tproxy URL: a chain', '--x\tproxy URL: a chain', '--verbose\tmore'], ['--proxy\tproxy URL: a chain', '-x\tproxy URL: a chain', '--verbose\tmore', '-v\tmore']],
    ['an alias listed before its option', ['-x', '--proxy'], ['-x', '--proxy']],
    ['commands and values pass unchanged', ['route', 'ssh-config:print blocks', 'bash', '-', '--'], ['route', 'ssh-config:print blocks', 'bash', '-', '--']],
    ['an option without aliases', ['--json', '--no-probe'], ['--json', '--no-probe']],
  ])('completionWords: %s', (_name, words, expected) => {
    expect(completionWords(words, aliases)).toEqual(expected);
  });
});
