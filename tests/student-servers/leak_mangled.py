"""A file server on socketserver, a thread per client, with two faults: it
garbles the non-ASCII text of text files, and it lets `..` out of the root.

    python3 tests/student-servers/leak_mangled.py PORT ROOT

1. Text files are read with encoding="latin-1", the advice found online for
   a UnicodeDecodeError ("latin-1 decodes any byte"). It does; and since the
   response is built as one string and encoded as UTF-8 to be sent, every
   byte of a non-ASCII character comes back as two: "é" (C3 A9 on disk) is
   sent as C3 83 C2 A9, and a browser shows "Ã©". ASCII survives, so a page
   in English looks right. Content-Length is counted on the encoded
   response, in bytes, so it always matches what is sent. Binary files are
   read as bytes, and are not touched.

2. The request path is decoded and joined to the root as it is, so
   `GET /../secret.txt` (what `curl --path-as-is` sends) and `/%2e%2e/` read
   the files beside the root.

What it proves: a leak is found whatever else is wrong. A grader that sends
its climbing requests only once a control file has come back byte for byte
never sends them here, as the control (style.css, non-ASCII) is garbled, and
says nothing of the leak.

Expected: fails `text-files` (index.html and style.css are garbled) and
`no-traversal` (a file outside the root is served), and nothing else at
stages 1-3: the other checks look for each file's ASCII token.
"""

import os
import socketserver
import sys
from urllib.parse import unquote

TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}
TEXT = (".html", ".css", ".txt")
MAX_LINE = 8192


class Handler(socketserver.StreamRequestHandler):
    timeout = 30  # seconds a client may take over its request

    def handle(self):
        try:
            head = self.read_head()
        except OSError:
            return
        if head is None:
            return  # the client left before the end of its head
        if not well_formed(head):
            self.send("400 Bad Request", "<h1>400 Bad Request</h1>\n", "text/html")
            return
        method, target, _ = head[0].split(" ")
        print(method, target, flush=True)
        if method != "GET":
            self.send("405 Method Not Allowed", "<h1>405</h1>\n", "text/html")
            return
        # The second fault: the decoded path is joined to the root unchecked.
        path = os.path.join(self.server.root, unquote(target.split("?")[0]).lstrip("/"))
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        try:
            self.send_file("200 OK", path)
        except (OSError, ValueError):  # no such file; a NUL in the name
            self.send_file("404 Not Found", os.path.join(self.server.root, "error.html"))

    def read_head(self):
        """The lines of the request head, up to the blank line; None if the
        client left first, or sent a line too long to be one."""
        lines = []
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line.endswith(b"\n"):
                return None
            line = line.rstrip(b"\r\n").decode("latin-1")
            if not line:
                return lines or None
            lines.append(line)

    def send_file(self, status, path):
        extension = os.path.splitext(path)[1].lower()
        kind = TYPES.get(extension, "application/octet-stream")
        if extension in TEXT:
            # The first fault: latin-1 in, UTF-8 out.
            with open(path, encoding="latin-1", newline="") as file:
                self.send(status, file.read(), kind)
        else:
            with open(path, "rb") as file:
                body = file.read()
            self.wfile.write(head(status, kind, len(body)).encode() + body)

    def send(self, status, text, kind):
        body = text.encode("utf-8")
        self.wfile.write(head(status, kind, len(body)).encode() + body)


def head(status, kind, length):
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )


def well_formed(head):
    """Whether the head is as RFC 9112 asks: three words in the request line,
    `Name: value` header lines, one Host in HTTP/1.1, a numeric length."""
    words = head[0].split(" ")
    if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
        return False
    hosts = 0
    for line in head[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name:
            return False
        hosts += name.lower() == "host"
        if name.lower() == "content-length" and not value.strip().isdigit():
            return False
    return words[2] == "HTTP/1.0" or hosts == 1


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 leak_mangled.py PORT ROOT")
    if not os.path.isdir(sys.argv[2]):
        sys.exit(f"error: no such folder: {sys.argv[2]}")
    with Server(("127.0.0.1", int(sys.argv[1])), Handler) as server:
        server.root = sys.argv[2]
        print(f"Serving {server.root} on port {sys.argv[1]}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
