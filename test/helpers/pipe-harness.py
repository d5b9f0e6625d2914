#!/usr/bin/env python3
"""Runs a command with pipe(2) as its stdin and stdout, as OpenSSH runs a ProxyCommand, and reports what its reader sees.

Node's child_process gives a child socketpairs, which behave differently at the end of a stream (closing a socket
shuts it down for the reader even while another copy of the fd is open; a pipe ends only when every write end is
closed). A test that only uses socketpairs therefore cannot see the hang a real pipe shows (issue #12).

Usage: pipe-harness.py COMMAND [ARGS...]
Commands on this program's stdin, one per line:
  write TEXT        write TEXT (UTF-8) to the child's stdin
  write-bytes N     write N bytes (0x61 'a') to the child's stdin, queued without blocking this loop
  close-stdin       close the write end of the child's stdin (EOF for the child)
  close-stdout      close the read end of the child's stdout (the child's next write gets EPIPE)
  signal NAME       send signal NAME (HUP, INT, TERM) to the child
Events on this program's stdout, one JSON object a line, each with "t" (seconds since start):
  {"ev":"started","pid":N}  {"ev":"out","total":N,"text":"..."}  {"ev":"eof"}
  {"ev":"exit","code":N|null,"signal":"SIGX"|null,"stderr":"..."}
The harness exits after the child exits and its stdout (if still open) reaches EOF or 200 ms pass after the exit.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time

start = time.monotonic()


def emit(event):
    event["t"] = round(time.monotonic() - start, 4)
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def main():
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    child = subprocess.Popen(sys.argv[1:], stdin=in_r, stdout=out_w, stderr=err_w, close_fds=True)
    # Only the child holds these ends now: the reader sees EOF exactly when the child closes (or exits).
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    os.set_blocking(in_w, False)
    emit({"ev": "started", "pid": child.pid})

    pending = b""
    close_after_pending = False
    total = 0
    stderr = b""
    control = sys.stdin.fileno()
    control_buffer = b""
    exit_status = None
    exited_at = None
    open_fds = {out_r, err_r, control}

    while True:
        if exit_status is None:
            status = child.poll()
            if status is not None:
                exit_status = status
                exited_at = time.monotonic()
        if exit_status is not None and (out_r not in open_fds or time.monotonic() - exited_at > 0.2):
            # Read whatever stderr still holds, then report.
            if err_r in open_fds:
                os.set_blocking(err_r, False)
                try:
                    while True:
                        chunk = os.read(err_r, 65536)
                        if not chunk:
                            break
                        stderr += chunk
                except BlockingIOError:
                    pass
            code = exit_status if exit_status >= 0 else None
            sig = signal.Signals(-exit_status).name if exit_status < 0 else None
            emit({"ev": "exit", "code": code, "signal": sig, "stderr": stderr.decode("utf-8", "replace")})
            return

        writers = [in_w] if pending and in_w is not None else []
        readable, writable, _ = select.select(list(open_fds), writers, [], 0.02)
        if in_w is not None and in_w in writable and pending:
            try:
                n = os.write(in_w, pending[:65536])
                pending = pending[n:]
            except BlockingIOError:
                pass
            except BrokenPipeError:
                pending = b""
            if not pending and close_after_pending:
                os.close(in_w)
                in_w = None
        for fd in readable:
            if fd not in open_fds:
                continue  # closed by a command earlier in this round (close-stdout)
            if fd == out_r:
                chunk = os.read(out_r, 65536)
                if chunk:
                    total += len(chunk)
                    emit({"ev": "out", "total": total, "text": chunk[:64].decode("utf-8", "replace")})
                else:
                    emit({"ev": "eof"})
                    os.close(out_r)
                    open_fds.discard(out_r)
            elif fd == err_r:
                chunk = os.read(err_r, 65536)
                if chunk:
                    stderr += chunk
                else:
                    os.close(err_r)
                    open_fds.discard(err_r)
            elif fd == control:
                chunk = os.read(control, 65536)
                if not chunk:
                    open_fds.discard(control)
                    continue
                control_buffer += chunk
                while b"\n" in control_buffer:
                    line, control_buffer = control_buffer.split(b"\n", 1)
                    verb, _, arg = line.decode().partition(" ")
                    if verb == "write" and in_w is not None:
                        pending += arg.encode()
                    elif verb == "write-bytes" and in_w is not None:
                        pending += b"a" * int(arg)
                    elif verb == "close-stdin" and in_w is not None:
                        if pending:
                            close_after_pending = True
                        else:
                            os.close(in_w)
                            in_w = None
                    elif verb == "close-stdout" and out_r in open_fds:
                        os.close(out_r)
                        open_fds.discard(out_r)
                    elif verb == "signal" and exit_status is None:
                        child.send_signal(getattr(signal, "SIG" + arg))


if __name__ == "__main__":
    main()
