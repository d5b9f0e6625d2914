import { usageError } from '../errors.ts';

// `burrow completion bash|zsh|fish`: a script for the shell that asks burrow itself for the candidates
// (`burrow --get-yargs-completions WORDS…`, yargs' completion machinery: commands, options, and after `--` nothing,
// so the shell falls back to file names). yargs picks its answer's format from $SHELL (plain words; zsh
// "name:description"; fish "name<TAB>description"); each script sets SHELL for that one call, so the answer fits the
// shell the script runs in, whatever the login shell is. yargs has templates too, but chooses them by $SHELL and
// does not export them.

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof SHELLS)[number];

const QUERY = '--get-yargs-completions';

/** The completion script for SHELL; `program` is the word the user types (burrow, or a path to it). */
export function completionScript(shell: string, program = 'burrow'): string {
  const name = program.replace(/^.*[\\/]/, '').replace(/\.exe$/i, '');
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_completions`;
  switch (shell) {
    case 'bash':
      return `# burrow completion for bash: add to ~/.bashrc
#   source <(${name} completion bash)
${fn}() {
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(SHELL=bash "\${COMP_WORDS[0]}" ${QUERY} "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o bashdefault -o default -F ${fn} ${name}
`;
    case 'zsh':
      return `#compdef ${name}
# burrow completion for zsh: add to ~/.zshrc (after compinit)
#   source <(${name} completion zsh)
${fn}() {
  local -a reply
  local IFS=$'\\n'
  reply=($(SHELL=zsh "\${words[1]}" ${QUERY} "\${(@)words[1,CURRENT]}" 2>/dev/null))
  if (( \${#reply} )); then _describe 'values' reply; else _default; fi
}
compdef ${fn} ${name}
`;
    case 'fish':
      return `# burrow completion for fish: save as ~/.config/fish/completions/${name}.fish
#   ${name} completion fish > ~/.config/fish/completions/${name}.fish
complete -c ${name} -f -a '(env SHELL=fish (commandline -opc)[1] ${QUERY} (commandline -opc) (commandline -ct) 2>/dev/null)'
`;
    default:
      throw usageError(`no completion for the shell "${shell}"`, `burrow completion ${SHELLS.join('|')}`);
  }
}
