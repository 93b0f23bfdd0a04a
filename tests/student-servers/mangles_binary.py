"""A file server on http.server, a thread per client, that treats every file
as text.

    python3 tests/student-servers/mangles_binary.py PORT ROOT

Its handler reads each file as UTF-8 text, builds the response as one string,
and encodes it to send it. Text files survive the round trip (it keeps their
line ends as they are, with newline=""), and Content-Length is counted in
bytes after encoding, so it always matches what is sent. But a PNG or any
other binary file is not UTF-8: every byte that does not decode becomes U+FFFD
(three bytes, EF BF BD, when encoded again), so the image that arrives is not
the image on disk.

Everything else is right: a thread per client (ThreadingHTTPServer), the
Content-Type of each file, no path out of the root, 404 with error.html, and
400 for what RFC 9112 says a server must refuse.

What it proves: a fault shows in the check about it and in no other. Only
`binary-files` asks for binary bytes; a check about something else (answering
four clients at once, say) must not ask for a binary file and fail on it.

Expected: fails `binary-files`, and nothing else at stages 1-3.
"""

import contextlib
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
}


class Handler(BaseHTTPRequestHandler):
    root = ""  # set in main
    # Without this, http.server answers a request line it cannot read as if
    # it were HTTP/0.9: an error page with no status line, which no client of
    # today can read as a response.
    default_request_version = "HTTP/1.0"

    def parse_request(self):
        if not super().parse_request():
            return False  # http.server has answered already: 400, 414, 505...
        # http.server forgives a few things RFC 9112 says to refuse with 400.
        lengths = set(self.headers.get_all("Content-Length", []))
        if self.headers.defects:  # a line that is not "Name: value" ends the head early
            self.send_error(400, "Malformed header line")
        elif self.request_version == "HTTP/1.1" and len(self.headers.get_all("Host", [])) != 1:
            self.send_error(400, "HTTP/1.1 needs exactly one Host header")
        elif len(lengths) > 1 or not all(n.isascii() and n.isdigit() for n in lengths):
            self.send_error(400, "Bad Content-Length")
        else:
            return True
        return False

    def do_GET(self):
        path = self.file_for(self.path)
        if path is None:
            self.send_text(404, os.path.join(self.root, "error.html"))
        else:
            self.send_text(200, path)

    def file_for(self, target):
        """The file a request target names under the root, or None."""
        name = unquote(urlsplit(target).path)
        if "\0" in name:
            return None
        full = os.path.realpath(os.path.join(self.root, name.lstrip("/")))
        # `/` is the root itself, and the root's index.html is its answer.
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        return full if os.path.isfile(full) else None

    def send_text(self, status, path):
        # The fault: every file is text to this server. newline="" keeps
        # "\r\n" as it is; errors="replace" keeps going past bytes that are
        # not UTF-8, by replacing them.
        with open(path, encoding="utf-8", errors="replace", newline="") as file:
            body = file.read()
        content_type = TYPES.get(os.path.splitext(path)[1], "application/octet-stream")
        head = (
            f"{self.protocol_version} {status} {self.responses[status][0]}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body.encode('utf-8'))}\r\n"
            "Connection: close\r\n\r\n"
        )
        self.log_request(status)
        self.wfile.write((head + body).encode("utf-8"))


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 mangles_binary.py PORT ROOT")
    Handler.root = os.path.realpath(sys.argv[2])
    if not os.path.isdir(Handler.root):
        sys.exit(f"error: no such folder: {sys.argv[2]}")
    with ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler) as server:
        print(f"Serving {Handler.root} on port {sys.argv[1]}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


if __name__ == "__main__":
    main()
