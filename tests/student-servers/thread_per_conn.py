"""A keep-alive file server on CPython's ThreadingHTTPServer: a thread for
every connection, for as long as the connection is open.

    python3 tests/student-servers/thread_per_conn.py PORT ROOT --keep-alive-timeout SECONDS

With protocol_version = "HTTP/1.1", http.server keeps connections open, and
the handler here does the rest of stage 6 right: a Content-Length on every
response, pipelined requests answered in order (http.server reads them from
its buffer), `Connection: close` honoured and said, HTTP/1.0 closed unless it
asks for keep-alive (and then told so), and a connection closed once idle for
--keep-alive-timeout seconds after a response. On Ctrl-C it stops accepting,
lets the responses under way finish (5 s at most), and exits with status 0.

What it does not do is stage 5's pool, nor stage 6's idea: every connection
has a thread of its own, from accept to close, idle or not. A client that
connects and says nothing holds a thread for as long as it likes; three
hundred idle connections are three hundred threads. It has no --threads or
--queue to give, so the checks that need them cannot run.

What it proves: the grader's counts mean what they say. `threads-bounded`
and `many-idle-connections` count the server's threads while the clients are
still connected, and a server with a thread for each of them fails both.

Expected at stage 6: fails `threads-bounded` and `many-idle-connections`;
`overload-503`, `pool-keeps-its-workers` and `ctrl-c-with-busy-pool` are
skipped (no {threads}, {queue}); passes everything else.
"""

import argparse
import contextlib
import os
import shutil
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

SHUTDOWN_TIMEOUT = 5  # seconds for responses under way after Ctrl-C

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
}


class Busy:
    """How many responses are being sent, for a shutdown that lets them finish."""

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()

    @contextlib.contextmanager
    def sending(self):
        with self.changed:
            self.count += 1
        try:
            yield
        finally:
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait(self, timeout):
        with self.changed:
            self.changed.wait_for(lambda: self.count == 0, timeout)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A request line it cannot read is answered as HTTP/1.0, with a status
    # line; http.server's default, HTTP/0.9, answers with the body alone.
    default_request_version = "HTTP/1.0"
    root = ""  # set in main
    keep_alive_timeout = 5.0
    busy = Busy()

    def handle(self):
        # The first request may take its time to start, as http.server lets
        # it; after each response, the connection may stay idle only so long.
        self.handle_one_request()
        while not self.close_connection:
            self.connection.settimeout(self.keep_alive_timeout)
            self.handle_one_request()

    def parse_request(self):
        if not super().parse_request():
            return False
        # What http.server forgives and RFC 9112 says to refuse with 400.
        lengths = set(self.headers.get_all("Content-Length", []))
        if self.headers.defects:
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed header line")
        elif any(" " in name or "\t" in name for name in self.headers.keys()):
            self.send_error(HTTPStatus.BAD_REQUEST, "Space before a colon")
        elif self.request_version == "HTTP/1.1" and len(self.headers.get_all("Host", [])) != 1:
            self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/1.1 needs exactly one Host")
        elif len(lengths) > 1 or not all(n.isascii() and n.isdigit() for n in lengths):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad Content-Length")
        else:
            return True
        return False

    def do_GET(self):
        # http.server has read Connection: HTTP/1.1 stays open unless it says
        # close, HTTP/1.0 closes unless it says keep-alive.
        keep = not self.close_connection
        path = self.file_for(self.path)
        status = HTTPStatus.OK
        if path is None:
            status, path = HTTPStatus.NOT_FOUND, os.path.join(self.root, "error.html")
        with self.busy.sending(), open(path, "rb") as file:
            self.send_response(status)
            self.send_header("Content-Type", TYPES.get(os.path.splitext(path)[1], "application/octet-stream"))
            self.send_header("Content-Length", str(os.fstat(file.fileno()).st_size))
            if not keep:
                self.send_header("Connection", "close")
            elif self.request_version == "HTTP/1.0":
                self.send_header("Connection", "keep-alive")
            self.end_headers()
            shutil.copyfileobj(file, self.wfile)

    def file_for(self, target):
        name = unquote(urlsplit(target).path)
        if "\0" in name:
            return None
        full = os.path.realpath(os.path.join(self.root, name.lstrip("/")))
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        return full if os.path.isfile(full) else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("root")
    parser.add_argument("--keep-alive-timeout", type=float, default=5)
    args = parser.parse_args()
    Handler.root = os.path.realpath(args.root)
    Handler.keep_alive_timeout = args.keep_alive_timeout
    if not os.path.isdir(Handler.root):
        sys.exit(f"error: no such folder: {args.root}")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"Serving {Handler.root} on http://127.0.0.1:{args.port}/", flush=True)
    # Ctrl-C only sets a flag. A KeyboardInterrupt raised in serve_forever
    # can land while it starts a connection's thread, and socketserver then
    # shuts that connection down, with its response half sent.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()  # no new connections; the open ones are daemon threads
    Handler.busy.wait(SHUTDOWN_TIMEOUT)


if __name__ == "__main__":
    main()
