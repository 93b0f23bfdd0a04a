#!/usr/bin/env python3
"""Holds many connections open to the server, and runs a command meanwhile.

    python3 scripts/idle-clients.py 500 --then 'grep Threads /proc/$(pgrep -n multithreaded)/status'

Opens COUNT connections to the server. By default they are silent: they connect
and send nothing, like `nc 127.0.0.1 3000` with nothing typed. With --kept N, the
first N of them first ask for --request and read the whole response, then sit
idle, as a browser's kept-alive connection does between pages. With --stalled N,
the next N ask for --request and never read a byte of the answer, like a client
on a very slow network.

A second after the last connection is made, it says how many of them the server
has already answered or closed, runs the --then command (with a shell) while
every connection is still open, and then closes them all. Without --then it
holds them until you press Ctrl-C. Used by the book's transcripts; needs nothing
but Python 3. Opening more than about 1,000 connections may need a higher limit
on open files (`ulimit -n`), for this script and for the server.
"""
import argparse
import collections
import select
import socket
import subprocess
import sys
import time


def read_response(sock: socket.socket) -> bytes:
    """Reads one response with a Content-Length body, and returns its status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection before answering")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection in the middle of a body")
        body += chunk
    return head.split(b"\r\n")[0]


def already_answered(socks: list) -> collections.Counter:
    """What the server has sent on each connection so far, without waiting:
    the status line of an answer, or "closed"."""
    poller = select.poll()
    for sock in socks:
        poller.register(sock, select.POLLIN)
    seen = collections.Counter()
    by_fd = {sock.fileno(): sock for sock in socks}
    for fd, _ in poller.poll(0):
        first = by_fd[fd].recv(4096, socket.MSG_PEEK)
        line = first.split(b"\r\n")[0].decode("latin-1")
        seen[line.partition(" ")[2] if line else "nothing (closed)"] += 1
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("count", type=int, help="how many connections to open")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--kept", type=int, default=0, metavar="N",
                        help="how many make a request first and read its answer")
    parser.add_argument("--stalled", type=int, default=0, metavar="N",
                        help="how many make a request and never read the answer")
    parser.add_argument("--request", default="/", metavar="PATH",
                        help="what --kept and --stalled connections ask for")
    parser.add_argument("--then", metavar="COMMAND",
                        help="a shell command to run while the connections are open")
    args = parser.parse_args()
    if args.kept + args.stalled > args.count:
        parser.error("--kept and --stalled add up to more than COUNT")

    request = f"GET {args.request} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n\r\n".encode()
    socks = []
    try:
        for i in range(args.count):
            sock = socket.create_connection((args.host, args.port), timeout=30)
            socks.append(sock)
            if i < args.kept + args.stalled:
                sock.sendall(request)
            if i < args.kept:
                read_response(sock)
    except OSError as error:
        print(f"connection {len(socks) + 1} failed: {error}", file=sys.stderr)
        return 1

    kinds = []
    if args.kept:
        kinds.append(f"{args.kept} kept alive after a request")
    if args.stalled:
        kinds.append(f"{args.stalled} not reading their answer")
    silent = args.count - args.kept - args.stalled
    if silent:
        kinds.append(f"{silent} silent")
    print(f"{args.count} connections open: {', '.join(kinds)}")

    time.sleep(1)  # give the server a moment to accept and answer what it will
    seen = already_answered(socks)
    if seen:
        answered = ", ".join(f"{n} with {what}" for what, n in seen.most_common())
        print(f"a second later, the server had already answered {sum(seen.values())} of them: {answered}")
    else:
        print("a second later, the server had answered none of them")
    sys.stdout.flush()

    status = 0
    try:
        if args.then:
            status = subprocess.run(args.then, shell=True).returncode
        else:
            print("holding them open; press Ctrl-C to close them")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    for sock in socks:
        sock.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
