import { fstatSync } from 'node:fs';

// Sends an open socket to another process over a Unix socket, as SCM_RIGHTS, for OpenSSH's ProxyUseFdpass.
//
// Why Node's internal bindings: Node has no public API that sends a file descriptor. Its own child_process sends
// handles to a child exactly this way (lib/internal/child_process.js: an IPC `Pipe` opened on the channel's fd, a
// `WriteWrap`, and `writeUtf8String(req, data, handle)`, which libuv turns into sendmsg(2) with SCM_RIGHTS through
// uv_write2). `process.binding()` still allow-lists pipe_wrap and stream_wrap for this kind of use (DEP0111 is a
// documentation-only deprecation; no warning is printed), and the shape used here has not changed since Node 12.
// A native addon would do the same in 20 lines of C but needs a compiler or a prebuilt binary on every machine an
// ssh client runs on. Tested on Node 20, 22, 24, 25 and 26 (test/integration/fdpass.test.ts and the npx runs in
// CHANGELOG.md); if a future Node drops the bindings, `fdPassingSupport()` says so and `connect --fdpass` fails with
// exit 1 and a hint to drop ProxyUseFdpass, before any proxy is contacted.

interface WriteRequest {
  oncomplete: (status: number) => void;
  async: boolean;
}

interface IpcPipe {
  open(fd: number): number;
  writeUtf8String(request: WriteRequest, data: string, handle: unknown): number;
  close(callback?: () => void): void;
}

interface Bindings {
  Pipe: new (type: number) => IpcPipe;
  WriteWrap: new () => WriteRequest;
  ipcType: number;
}

function loadBindings(): Bindings | string {
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const pipeWrap = binding('pipe_wrap') as { Pipe?: Bindings['Pipe']; constants?: { IPC?: number } };
    const streamWrap = binding('stream_wrap') as { WriteWrap?: Bindings['WriteWrap'] };
    if (typeof pipeWrap.Pipe !== 'function' || typeof streamWrap.WriteWrap !== 'function' || typeof pipeWrap.constants?.IPC !== 'number') {
      return `Node ${process.version} no longer exposes pipe_wrap.Pipe/stream_wrap.WriteWrap`;
    }
    return { Pipe: pipeWrap.Pipe, WriteWrap: streamWrap.WriteWrap, ipcType: pipeWrap.constants.IPC };
  } catch (error) {
    return `Node ${process.version} refuses process.binding (${(error as Error).message})`;
  }
}

let bindings: Bindings | string | undefined;

/** undefined when this Node can pass descriptors; otherwise why not. */
export function fdPassingSupport(): string | undefined {
  bindings ??= loadBindings();
  return typeof bindings === 'string' ? bindings : undefined;
}

/** True when `fd` is a socket (ssh gives the ProxyCommand one end of a socketpair with ProxyUseFdpass). */
export function isSocketFd(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

/**
 * Writes one byte with `handle` (a libuv TCP or Pipe handle: a net.Socket's `_handle`) attached over the Unix socket
 * on `fd`. Resolves once the kernel has taken it: the receiver then holds its own copy of the descriptor.
 */
export function sendHandle(fd: number, handle: unknown): Promise<void> {
  const support = fdPassingSupport();
  if (support !== undefined) return Promise.reject(new Error(support));
  const { Pipe, WriteWrap, ipcType } = bindings as Bindings;
  return new Promise((resolve, reject) => {
    const pipe = new Pipe(ipcType);
    const opened = pipe.open(fd);
    if (opened !== 0) {
      reject(new Error(`cannot open fd ${fd} as a Unix socket (libuv error ${opened})`));
      return;
    }
    const request = new WriteWrap();
    request.async = false;
    request.oncomplete = (status: number) => {
      pipe.close();
      if (status === 0) resolve();
      else reject(new Error(`sending the descriptor failed (libuv error ${status})`));
    };
    const status = pipe.writeUtf8String(request, '\0', handle);
    if (status !== 0) {
      pipe.close();
      reject(new Error(`sending the descriptor failed (libuv error ${status})`));
    } else if (!request.async) {
      // Completed synchronously: Node then never calls oncomplete (stream_base_commons afterWriteDispatched).
      pipe.close();
      resolve();
    }
  });
}
