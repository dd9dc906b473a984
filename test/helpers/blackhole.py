"""A TCP listener whose accept queue is full, so new connects hang.

Usage: blackhole.py HOST PORT. Listens with a backlog of 0, fills the queue
with one connection of its own and never accepts: the kernel then drops
further SYNs and a client's connect() neither succeeds nor fails. Prints
"ready" once that holds, then waits for stdin to close.
"""
import socket
import sys

listener = socket.socket()
listener.bind((sys.argv[1], int(sys.argv[2])))
listener.listen(0)
filler = socket.create_connection(listener.getsockname())
print("ready", flush=True)
sys.stdin.read()
