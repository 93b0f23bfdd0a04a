"""A thread-per-client file server that sends every text file with CRLF line
ends.

    python3 tests/student-servers/crlf_text.py PORT ROOT

The student learnt that lines in HTTP end in CRLF, and applied it to the
body too: a text file (.html, .css, .txt) is read line by line and sent
with "\\r\\n" after each line, "so that every client reads it the same".
A file written with CRLF comes back as it is on disk; one written with LF,
as most are, comes back with a "\\r" before every "\\n". Browsers do not
mind, so the student never sees it. Content-Length is counted after the
change, in bytes, so it is always the length of what is sent.

Everything else is right: the head is read until its blank line, binary
files go out untouched, `/` gives index.html, nothing outside the root is
served, a missing file gets 404 with error.html, a malformed request 400.

What it proves: a file's exact bytes are judged by `text-files` and
`binary-files` alone. The checks about sub-folders, concurrency and errors
look for each file's token, so they pass a server that changes line ends.

Expected: fails `text-files` (style.css has LF line ends), and nothing else
at stages 1-3.
"""

import os
import socket
import sys
import threading
from urllib.parse import unquote

TEXT = {".html": "text/html", ".css": "text/css", ".txt": "text/plain"}
BINARY = {".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif"}
MAX_HEAD = 16 * 1024
READ_TIMEOUT = 30  # seconds a client may take to send its request


class BadRequest(Exception):
    pass


def read_head(conn):
    """The request head without its blank line; None if the client left first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_HEAD:
            raise BadRequest("head too large")
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def parse(head):
    """The method and target, if the head is well formed (RFC 9112)."""
    request_line, *lines = head.split("\r\n")
    words = request_line.split(" ")
    if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise BadRequest("bad request line")
    hosts = 0
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or any(c.isspace() for c in name):
            raise BadRequest("bad header line")
        if name.lower() == "host":
            hosts += 1
        if name.lower() == "content-length" and not (value.strip().isascii() and value.strip().isdigit()):
            raise BadRequest("bad Content-Length")
    if words[2] == "HTTP/1.1" and hosts != 1:
        raise BadRequest("HTTP/1.1 needs one Host")
    return words[0], words[1]


def read_file(path):
    extension = os.path.splitext(path)[1].lower()
    if extension in TEXT:
        # The fault: every line gets "\r\n", whatever it ended with.
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
        return ("\r\n".join(lines) + "\r\n").encode("utf-8"), TEXT[extension]
    with open(path, "rb") as file:
        return file.read(), BINARY.get(extension, "application/octet-stream")


def send(conn, status, body, content_type="text/html"):
    head = (
        f"HTTP/1.1 {status}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    conn.sendall(head.encode("latin-1") + body)


def find(root, target):
    """The file `target` names under the root, or None."""
    name = unquote(target.split("?", 1)[0])
    if "\0" in name:
        return None
    path = os.path.realpath(os.path.join(root, name.lstrip("/")))
    if path != root and not path.startswith(root + os.sep):
        return None
    if os.path.isdir(path):
        path = os.path.join(path, "index.html")
    return path if os.path.isfile(path) else None


def handle(conn, root):
    with conn:
        try:
            conn.settimeout(READ_TIMEOUT)
            try:
                head = read_head(conn)
                if head is None:
                    return
                method, target = parse(head)
            except BadRequest as error:
                print("400:", error, flush=True)
                send(conn, "400 Bad Request", b"<h1>400 Bad Request</h1>\n")
                return
            print(method, target, flush=True)
            if method != "GET":
                send(conn, "405 Method Not Allowed", b"<h1>405 Method Not Allowed</h1>\n")
                return
            path = find(root, target)
            if path is None:
                body, kind = read_file(os.path.join(root, "error.html"))
                send(conn, "404 Not Found", body, kind)
                return
            body, kind = read_file(path)
            send(conn, "200 OK", body, kind)
        except (OSError, UnicodeDecodeError) as error:
            print("error:", error, flush=True)


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 crlf_text.py PORT ROOT")
    root = os.path.realpath(sys.argv[2])
    if not os.path.isdir(root):
        sys.exit(f"error: no such folder: {sys.argv[2]}")
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[1])))
    server.listen(64)
    print(f"Serving {root} on port {sys.argv[1]}", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, root), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
