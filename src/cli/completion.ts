import { usageError } from '../errors.ts';

// `burrow completion bash|zsh|fish`: a script for the shell that asks burrow itself for the candidates
// (`burrow --get-yargs-completions WORDS…`, yargs' completion machinery: commands, options, and after `--` nothing,
// so the shell falls back to file names). yargs picks its answer's format from $SHELL (plain words; zsh
// "name:description"; fish "name<TAB>description"); each script sets SHELL for that one call, so the answer fits the
// shell the script runs in, whatever the login shell is. yargs has templates too, but chooses them by $SHELL and
// does not export them.
//
// yargs' option words need one repair (completionWords): it writes a one-letter alias as `--x` when the word being
// completed starts with `--`, and leaves out the alias of a count option (`-v` of --verbose). burrow's completion
// function (yargs-cli.ts) passes yargs' words through it with the aliases of the command being completed.

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

/**
 * yargs' completion words with one-letter options as `-x`, never `--x`, and each long option followed by its
 * one-letter aliases (`--proxy`, `-x`), each word once. Words are `NAME` (bash), `NAME:DESCRIPTION` (zsh) or
 * `NAME<TAB>DESCRIPTION` (fish); a short alias gets its long option's description. Other words pass unchanged.
 */
export function completionWords(words: readonly string[], aliases: Readonly<Record<string, readonly string[]>>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (name: string, rest: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    out.push(name + rest);
  };
  for (const word of words) {
    const option = /^--?([^-:\t][^:\t]*)([:\t][\s\S]*)?$/.exec(word);
    if (!option) {
      out.push(word);
      continue;
    }
    const key = option[1]!;
    const rest = option[2] ?? '';
    add(key.length === 1 ? `-${key}` : `--${key}`, rest);
    if (key.length > 1) for (const alias of aliases[key] ?? []) if (alias.length === 1) add(`-${alias}`, rest);
  }
  return out;
}
