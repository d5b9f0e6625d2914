import { closeSync, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';

// Asks for proxy credentials on /dev/tty, never on stdin (in `connect`, stdin is the tunnel), with echo off for the
// password. Returns undefined when there is no terminal (cron, CI, an IDE spawning ssh): the caller then explains
// where else credentials can come from.

const PROMPT_LIMIT_MS = 120_000;

/** `note`, when given, is printed first (why burrow asks although it has credentials). */
export async function promptCredentials(proxyLabel: string, username: string | undefined, note?: string): Promise<{ username: string; password: string } | undefined> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  let input: ReadStream;
  try {
    input = new ReadStream(fd);
  } catch {
    closeSync(fd);
    return undefined;
  }
  try {
    if (note) writeSync(fd, `burrow: ${note}\n`);
    const user = username ?? (await readLine(input, fd, `burrow: user name for the proxy ${proxyLabel}: `, true));
    if (user === undefined || user === '') return undefined;
    const password = await readLine(input, fd, `burrow: password for ${user} at the proxy ${proxyLabel}: `, false);
    if (password === undefined) return undefined;
    return { username: user, password };
  } finally {
    // The stream owns the fd from here: destroying it closes the terminal handle, which would otherwise keep the
    // process alive after the tunnel ends.
    input.destroy();
  }
}

function readLine(input: ReadStream, fd: number, prompt: string, echo: boolean): Promise<string | undefined> {
  writeSync(fd, prompt);
  input.setRawMode(true);
  return new Promise((resolve) => {
    let text = '';
    const done = (value: string | undefined) => {
      clearTimeout(timer);
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      writeSync(fd, '\n');
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), PROMPT_LIMIT_MS);
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done(text);
        if (char === '\u0003' || char === '\u0004') return done(undefined); // Ctrl-C, Ctrl-D
        if (char === '\u007f' || char === '\b') {
          if (text.length > 0) {
            text = text.slice(0, -1);
            if (echo) writeSync(fd, '\b \b');
          }
          continue;
        }
        text += char;
        if (echo) writeSync(fd, char);
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
