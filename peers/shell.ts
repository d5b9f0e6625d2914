// Quoting for the commands OpenSSH runs through the user's shell (ProxyCommand).

/** Quotes one word for /bin/sh (OpenSSH runs the ProxyCommand with the user's shell: `exec COMMAND`). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
