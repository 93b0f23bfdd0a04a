"""A thread-pool file server, correct for stage 5 but for one thing: it takes
a single recv(1024) to be the whole request.

    python3 tests/student-servers/pool_one_recv.py PORT ROOT --threads N --queue N

The pool is done right: --threads workers started once, fed by a queue that
holds --queue accepted connections; a connection that finds the queue full is
answered `503` with `Retry-After` at once, by the accept loop; a worker
catches whatever goes wrong with its connection and goes back for the next.
On Ctrl-C (or SIGTERM) it stops accepting, closes the connections still
queued, lets the responses under way finish (5 s at most), and exits with
status 0. Files go out as bytes, with a Content-Length in bytes and the
Content-Type of their extension; `/` gives index.html; nothing outside the
root; 404 with error.html; 400 for what RFC 9112 says to refuse.

But a worker reads its request with one `recv(1024)`, and parses what came
as the whole head: whatever arrived first, the blank line or not. A request
line cut in two gets 400; a head cut after a whole header line is served as
if it had ended there, and the connection closed.

What it proves: `threads-bounded` counts only clients that are still
there. Its slow clients send half a head and wait; this server answers each
at once (its request line and Host are in the first half) and closes, so
when the threads are counted there is no crowd to count: the check cannot
judge the pool with these clients, and says so, rather than pass it.

Expected at stage 5: fails `split-request`; `threads-bounded` is not judged
(its slow clients were answered and closed, not held); passes the rest.
"""

import argparse
import os
import queue
import signal
import socket
import sys
import threading
from urllib.parse import unquote

SHUTDOWN_TIMEOUT = 5  # seconds for responses under way after Ctrl-C
WRITE_TIMEOUT = 30  # seconds a client may leave a response unread
GRACE = 0.1  # seconds a connection may wait for a place in a full queue

TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}
HTML = "text/html; charset=utf-8"


def respond(conn, status, body, content_type=HTML, extra=""):
    conn.sendall(
        (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
        ).encode("latin-1")
        + body
    )


def well_formed(lines):
    """Whether a request head's lines are as RFC 9112 asks."""
    words = lines[0].split(" ")
    if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
        return False
    hosts = 0
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or any(c.isspace() for c in name):
            return False
        hosts += name.lower() == "host"
        if name.lower() == "content-length" and not (value.strip().isascii() and value.strip().isdigit()):
            return False
    return words[2] == "HTTP/1.0" or hosts == 1


class Server:
    def __init__(self, args):
        self.root = os.path.realpath(args.root)
        self.jobs = queue.Queue(maxsize=args.queue)
        self.busy = 0
        self.idle = threading.Condition()
        for _ in range(args.threads):
            threading.Thread(target=self.work, daemon=True).start()

    def work(self):
        while True:
            conn = self.jobs.get()
            with self.idle:
                self.busy += 1
            with conn:
                try:
                    conn.settimeout(WRITE_TIMEOUT)
                    self.answer(conn)
                except Exception as error:  # this client's trouble, not the worker's
                    print(f"connection: {error!r}", file=sys.stderr, flush=True)
            with self.idle:
                self.busy -= 1
                self.idle.notify_all()

    def answer(self, conn):
        # The fault: what one recv brings is taken for the whole request.
        request = conn.recv(1024)
        if not request:
            return
        lines = request.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        if not well_formed(lines):
            respond(conn, "400 Bad Request", b"<h1>400 Bad Request</h1>\n")
            return
        method, target, _ = lines[0].split(" ")
        print(method, target, flush=True)
        if method != "GET":
            respond(conn, "405 Method Not Allowed", b"<h1>405 Method Not Allowed</h1>\n")
            return
        path = self.file_for(target)
        if path is None:
            with open(os.path.join(self.root, "error.html"), "rb") as page:
                respond(conn, "404 Not Found", page.read())
            return
        with open(path, "rb") as file:
            kind = TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
            conn.sendall(
                (
                    f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\n"
                    f"Content-Length: {os.fstat(file.fileno()).st_size}\r\nConnection: close\r\n\r\n"
                ).encode("latin-1")
            )
            while block := file.read(65536):
                conn.sendall(block)

    def file_for(self, target):
        name = unquote(target.split("?", 1)[0])
        if "\0" in name:
            return None
        full = os.path.realpath(os.path.join(self.root, name.lstrip("/")))
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        return full if os.path.isfile(full) else None

    def serve(self, listener, stop):
        listener.settimeout(0.5)  # to see the stop flag now and then
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            try:
                # A moment's grace for a place in the queue: a worker is often
                # just about to take the next connection.
                self.jobs.put(conn, timeout=GRACE)
            except queue.Full:
                with conn:
                    try:
                        conn.setblocking(False)  # a few bytes: the buffer takes them
                        respond(conn, "503 Service Unavailable", b"<h1>503 Service Unavailable</h1>\n", extra="Retry-After: 1\r\n")
                    except OSError:
                        pass
        listener.close()
        while True:  # queued: no answer yet, and none coming
            try:
                self.jobs.get_nowait().close()
            except queue.Empty:
                break
        with self.idle:
            self.idle.wait_for(lambda: self.busy == 0, SHUTDOWN_TIMEOUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("root")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--queue", type=int, default=64)
    args = parser.parse_args()
    if not os.path.isdir(args.root):
        sys.exit(f"error: no such folder: {args.root}")
    listener = socket.create_server(("127.0.0.1", args.port), backlog=256)
    server = Server(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Serving {server.root} on http://127.0.0.1:{args.port}/", flush=True)
    server.serve(listener, stop)


if __name__ == "__main__":
    main()
