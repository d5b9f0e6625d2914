import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { BurrowError } from './errors.ts';

/**
 * Opens `--log-file` for appending, as a file descriptor for pino. A new file is created 0600 (logs name proxies,
 * users and targets). A symbolic link is followed only when it belongs to the user running burrow: someone else's
 * link in a shared directory (/tmp) would otherwise make burrow append to whatever file it points at. The final open
 * uses O_NOFOLLOW whenever the path was not our own link, so a link swapped in after the check is refused too.
 */
export function openLogFile(path: string): number {
  let ownLink = false;
  try {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) {
      if (stat.uid !== process.getuid?.()) throw notFollowed(path, `a symbolic link owned by uid ${stat.uid}, not by you`);
      ownLink = true;
    }
  } catch (error) {
    if (error instanceof BurrowError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotOpen(path, error as NodeJS.ErrnoException);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  }
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (ownLink ? 0 : constants.O_NOFOLLOW);
  let fd: number;
  try {
    fd = openSync(path, flags, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw notFollowed(path, 'a symbolic link (it appeared while burrow opened the file)');
    throw cannotOpen(path, error as NodeJS.ErrnoException);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new BurrowError('usage', `--log-file ${path} is not a regular file`, { hint: 'give the path of a file (it is created 0600 if absent)' });
  }
  return fd;
}

function notFollowed(path: string, what: string): BurrowError {
  return new BurrowError('usage', `--log-file ${path} is ${what}: burrow does not write through it`, {
    hint: 'point --log-file at a file in a directory only you can write to (e.g. ~/.local/state/burrow/burrow.log)',
  });
}

function cannotOpen(path: string, error: NodeJS.ErrnoException): BurrowError {
  return new BurrowError('usage', `cannot open --log-file ${path}: ${error.code ?? error.message}`, {
    said: error.code,
    hint: 'check that the directory exists and is writable',
  });
}
