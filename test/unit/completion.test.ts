import { describe, expect, it } from 'vitest';
import { completionScript } from '../../src/cli/completion.ts';

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
});
