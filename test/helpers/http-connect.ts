// Talking to an HTTP proxy by hand, without any client tool: a raw CONNECT and credentials in its forms.
import net from 'node:net';

/** Percent-encodes user and password into a proxy URL: `http://user:p%3Aa%20s%40ss@127.0.0.1:PORT`. */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  return `${u.protocol}//${encodeURIComponent(user)}:${encodeURIComponent(password)}@${u.host}`;
}

export interface ConnectAnswer {
  /** `HTTP/1.1 200 Connection established`, or '' when the proxy closed without answering. */
  statusLine: string;
  status: number;
  /** The whole header block, status line included. */
  head: string;
  /** Bytes after the blank line that arrived within the wait (an SSH banner, a body). */
  rest: Buffer;
}

/**
 * Sends `CONNECT target HTTP/1.1` to an HTTP proxy and reads the answer's header block (bounded to 64 KiB and
 * `timeoutMs`), then `waitAfterMs` more for bytes that follow, or, with `restUntil`, until those bytes satisfy it
 * (still within `timeoutMs`: a target's banner comes when it comes, later on a loaded machine). For checking proxy
 * configs without any client tool.
 */
export function httpConnect(
  proxy: { host: string; port: number },
  target: string,
  headers: Record<string, string> = {},
  { timeoutMs = 10_000, waitAfterMs = 300, restUntil }: { timeoutMs?: number; waitAfterMs?: number; restUntil?: (rest: Buffer) => boolean } = {},
): Promise<ConnectAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    let buf = Buffer.alloc(0);
    let headEnd = -1;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const end = headEnd >= 0 ? headEnd : buf.length;
      const head = buf.subarray(0, end).toString('latin1');
      const statusLine = head.split('\r\n')[0] ?? '';
      const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({ statusLine, status, head, rest: headEnd >= 0 ? buf.subarray(headEnd + 4) : Buffer.alloc(0) });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (headEnd < 0) {
        headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd >= 0 && !restUntil) setTimeout(finish, waitAfterMs);
        else if (buf.length > 65536) finish();
      }
      if (headEnd >= 0 && restUntil?.(buf.subarray(headEnd + 4))) finish();
    });
    socket.once('close', finish);
    socket.once('error', (error) => {
      if (!settled && buf.length === 0) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      } else finish();
    });
    socket.once('connect', () => {
      const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  });
}

/** `Basic base64(user:password)` for a Proxy-Authorization header. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
