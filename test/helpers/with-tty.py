#!/usr/bin/env python3
"""Runs a command with a new pseudo-terminal as its controlling terminal (/dev/tty) while its stdin is /dev/null
and its stdout/stderr are pipes, as under OpenSSH's ProxyCommand; types each ANSWER line when the terminal shows
a prompt ending in ": ". Prints a JSON object: exit code, stdout, stderr, and everything written to the terminal.
Node has no pty of its own; python3's pty module is on every machine this project runs on.

usage: with-tty.py ANSWER1 [ANSWER2 ...] -- COMMAND [ARGS...]
"""
import fcntl, json, os, pty, select, subprocess, sys, termios, time

split = sys.argv.index('--')
answers, command = sys.argv[1:split], sys.argv[split + 1:]
master, slave = pty.openpty()


def become_terminal_owner():
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)


child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=become_terminal_owner, pass_fds=(slave,))
os.close(slave)
screen = b''
deadline = time.time() + 20
while answers and time.time() < deadline and child.poll() is None:
    ready, _, _ = select.select([master], [], [], 0.1)
    if not ready:
        continue
    try:
        screen += os.read(master, 4096)
    except OSError:
        break
    if screen.rstrip(b' ').endswith(b':'):
        os.write(master, answers.pop(0).encode() + b'\r')
        time.sleep(0.05)
try:
    out, err = child.communicate(timeout=20)
except subprocess.TimeoutExpired:
    child.kill()
    out, err = child.communicate()
try:
    while select.select([master], [], [], 0)[0]:
        screen += os.read(master, 4096)
except OSError:
    pass
print(json.dumps({'code': child.returncode, 'stdout': out.decode(errors='replace'), 'stderr': err.decode(errors='replace'),
                  'tty': screen.decode(errors='replace')}))
