"""Runs a command with a pseudo-terminal as its stdin, as a person at a
terminal would run it, while its stdout and stderr stay this process's own
(the test's pipes).

    terminal_stdin.py COMMAND [ARG...]

What this process reads on stdin is typed into the terminal: the line
discipline hands the command one line at a time. At the end of this
process's stdin an end-of-file (Ctrl-D) is typed. Echo is off, so nothing
comes back on the terminal's master side that would need reading. The
command runs in a session of its own with the terminal as its controlling
terminal, so when this process dies, the terminal hangs up and the command
gets SIGHUP: it cannot outlive a test that killed this process.

Exits with the command's status (128 + N for a command killed by signal N,
as a shell reports it).
"""
import fcntl
import os
import pty
import subprocess
import sys
import termios
import threading


def main():
    master, slave = pty.openpty()
    attributes = termios.tcgetattr(slave)
    attributes[3] &= ~termios.ECHO  # lflag
    termios.tcsetattr(slave, termios.TCSANOW, attributes)

    child = subprocess.Popen(
        sys.argv[1:],
        stdin=slave,
        start_new_session=True,
        # Runs after setsid(), with the terminal already on fd 0.
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)

    def type_stdin():
        try:
            while True:
                data = os.read(0, 4096)
                if not data:
                    break
                os.write(master, data)
            # VEOF at the start of a line: the reader sees end of file.
            os.write(master, b"\x04")
        except OSError:
            pass  # the command is gone and the terminal with it

    threading.Thread(target=type_stdin, daemon=True).start()
    status = child.wait()
    sys.exit(128 - status if status < 0 else status)


main()
