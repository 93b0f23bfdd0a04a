"""A static file server on socketserver, streaming every file in chunks:
correct for stages 1-3.

    python3 tests/student-servers/chunked.py PORT ROOT

What it proves: a response framed with `Transfer-Encoding: chunked` and no
Content-Length is as correct as one with a length, and a grader must decode
it, with all that HTTP/1.1 allows in it: chunk sizes in upper-case hex, a
chunk extension on every chunk (`;offset=N`, which a client must ignore), and a
trailer after the last chunk (a checksum of the body, announced in the head by
`Trailer:`). The 404 page is sent the same way. An HTTP/1.0 client cannot read
chunks, so it gets the body undelimited, ended by the close.

Python 3.11, standard library only. One thread per connection; every
connection is closed after one response.

Expected: passes every check of stages 1-3.
"""

import hashlib
import os
import re
import socket
import socketserver
import sys
from urllib.parse import unquote, urlsplit

READ_TIMEOUT = 10  # seconds a client has to send its request head
MAX_LINE = 8192
MAX_HEADERS = 100
MAX_BODY = 1 << 20  # a GET has no use for a body; read and drop at most this much

TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
REQUEST_LINE = re.compile(rf"({TOKEN}) (\S+) HTTP/(\d)\.(\d)")
# No space before the colon, no folded lines: RFC 9112 says to refuse both.
HEADER_LINE = re.compile(rf"({TOKEN}):[ \t]*(.*?)[ \t]*")

TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}

REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


class Refused(Exception):
    """A request we answer with an error status instead of a file."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class Request:
    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.version = version  # (1, 0) or (1, 1)
        self.headers = headers  # [(lower-case name, value)]

    def all(self, name):
        return [value for key, value in self.headers if key == name]


class Handler(socketserver.StreamRequestHandler):
    timeout = READ_TIMEOUT

    def handle(self):
        try:
            request = self.read_request()
        except Refused as refused:
            self.send_error(refused.status)
            return
        except OSError:  # a timeout, a reset
            return
        if request is None:
            return  # the client left without a request
        print(f"{request.method} {request.target}", flush=True)
        try:
            self.answer(request)
        except Refused as refused:
            self.send_error(refused.status)
        except OSError as error:  # the client left mid-response
            print(f"  {error}", flush=True)

    def read_line(self, too_long):
        """A line of the head without its CRLF, or None if the client left first."""
        line = self.rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise Refused(too_long)
        if not line.endswith(b"\n"):
            return None
        if not line.endswith(b"\r\n"):
            raise Refused(400)  # HTTP/1 lines end in CRLF
        return line[:-2].decode("latin-1")

    def read_request(self):
        line = self.read_line(414)
        if line is None:
            return None
        match = REQUEST_LINE.fullmatch(line)
        if not match:
            raise Refused(400)
        method, target, major, minor = match.groups()
        if major != "1":
            raise Refused(505)
        headers = []
        while (line := self.read_line(431)) != "":
            if line is None:
                return None
            header = HEADER_LINE.fullmatch(line)
            if not header:
                raise Refused(400)
            if len(headers) == MAX_HEADERS:
                raise Refused(431)
            headers.append((header.group(1).lower(), header.group(2)))
        request = Request(method, target, (1, int(minor)), headers)
        if request.version == (1, 1) and len(request.all("host")) != 1:
            raise Refused(400)
        if request.all("transfer-encoding"):
            raise Refused(501)
        lengths = set(request.all("content-length"))
        if lengths:
            if len(lengths) > 1 or not re.fullmatch("[0-9]+", next(iter(lengths))):
                raise Refused(400)
            length = int(lengths.pop())
            if length > MAX_BODY:
                raise Refused(413)
            self.rfile.read(length)  # drop it, so that closing does not reset
        return request

    def answer(self, request):
        if request.method not in ("GET", "HEAD"):
            raise Refused(405)
        path = self.server.file_for(request.target)
        if path is None:
            page = os.path.join(self.server.root, "error.html")
            self.send_file(404, page if os.path.isfile(page) else None, request)
        else:
            self.send_file(200, path, request)

    def send_error(self, status):
        body = f"{status} {REASONS[status]}\n".encode()
        self.send_head(status, "text/plain; charset=utf-8", chunked=False)
        self.wfile.write(body)

    def send_head(self, status, content_type, chunked):
        lines = [f"HTTP/1.1 {status} {REASONS[status]}", f"Content-Type: {content_type}"]
        if chunked:
            lines += ["Transfer-Encoding: chunked", "Trailer: X-Content-SHA256"]
        lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send_file(self, status, path, request):
        if path is None:  # no error.html in the root
            self.send_error(status)
            return
        content_type = TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
        chunked = request.version == (1, 1)
        self.send_head(status, content_type, chunked)
        if request.method == "HEAD":
            return
        with open(path, "rb") as file:
            if not chunked:
                while block := file.read(65536):
                    self.wfile.write(block)
                return
            digest = hashlib.sha256()
            offset, size = 0, 1
            # Chunks of 1, 2, 4 ... bytes, up to 16 KiB: sizes of every
            # length in hex, for the client to read.
            while block := file.read(size):
                self.wfile.write(b"%X;offset=%d\r\n%s\r\n" % (len(block), offset, block))
                digest.update(block)
                offset += len(block)
                size = min(size * 2, 16384)
            self.wfile.write(b"0\r\nX-Content-SHA256: %s\r\n\r\n" % digest.hexdigest().encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port, root):
        self.root = os.path.realpath(root)
        super().__init__(("127.0.0.1", port), Handler)

    def file_for(self, target):
        """The file a request target names under the root, or None."""
        try:
            path = unquote(urlsplit(target).path, errors="strict")
        except (UnicodeDecodeError, ValueError):  # %-escapes that are not UTF-8; a bad URL
            raise Refused(400) from None
        if "\0" in path:
            raise Refused(400)
        full = os.path.realpath(os.path.join(self.root, path.lstrip("/")))
        if os.path.commonpath([self.root, full]) != self.root:
            return None
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        return full if os.path.isfile(full) else None


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 chunked.py PORT ROOT")
    port, root = int(sys.argv[1]), sys.argv[2]
    if not os.path.isdir(root):
        sys.exit(f"error: no such folder: {root}")
    try:
        server = Server(port, root)
    except OSError as error:
        sys.exit(f"error: cannot listen on port {port}: {error}")
    print(f"Listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
