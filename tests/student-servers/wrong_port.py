"""A correct thread-per-client file server that listens on the wrong port:
the one after the port it is given.

    python3 tests/student-servers/wrong_port.py PORT ROOT

While writing it, the student kept last week's version running on the port
the course uses, and bumped the new one by one so that both could run:

    port = int(sys.argv[1]) + 1  # the old version still has the first one

and never took it out again. The server starts, says where it listens, and
serves everything right, on a port nobody asked it to use. (If that port is
taken, it cannot listen, and exits with an error.)

What it proves: a server on another port is found, and said, at once. The
grader's readiness probe finds nothing on the port it gave, and a grader that
only waits gives up after its whole startup timeout (two minutes) with "did
not start", though the server was running all along. Where it can see the
server's own sockets (Linux: /proc), the grader says within seconds that it
listens on port+1, not on the port it was given.

Expected: fails `connects`; every other check is not judged, as nothing was
ever answered on the port given.
"""

import os
import sys
import threading
from socket import AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket
from urllib.parse import unquote

TYPES = {".html": "text/html", ".css": "text/css", ".txt": "text/plain", ".png": "image/png"}


def send(conn, status, body, kind="text/html"):
    head = f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    conn.sendall(head.encode("latin-1") + body)


def headers_ok(version, lines):
    """`Name: value` lines (no space before the colon), one Host in HTTP/1.1,
    a Content-Length that is a number: what RFC 9112 asks."""
    fields = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or any(c.isspace() for c in name):
            return False
        fields.setdefault(name.lower(), []).append(value.strip())
    if version == "HTTP/1.1" and len(fields.get("host", [])) != 1:
        return False
    return all(n.isascii() and n.isdigit() for n in fields.get("content-length", []))


def handle(conn, root):
    with conn:
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk or len(data) > 16384:
                    return
                data += chunk
            request_line, *lines = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            words = request_line.split(" ")
            if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1") or not headers_ok(words[2], lines):
                send(conn, "400 Bad Request", b"<h1>400 Bad Request</h1>\n")
                return
            name = unquote(words[1].split("?")[0])
            path = os.path.realpath(os.path.join(root, name.lstrip("/")))
            if "\0" in name or (path != root and not path.startswith(root + os.sep)):
                path = ""
            if os.path.isdir(path):
                path = os.path.join(path, "index.html")
            if not os.path.isfile(path):
                with open(os.path.join(root, "error.html"), "rb") as page:
                    send(conn, "404 Not Found", page.read())
                return
            with open(path, "rb") as file:
                send(conn, "200 OK", file.read(), TYPES.get(os.path.splitext(path)[1], "application/octet-stream"))
        except (OSError, ValueError) as error:
            print("error:", error, flush=True)


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 wrong_port.py PORT ROOT")
    # The fault.
    port = int(sys.argv[1]) + 1  # the old version still has the first one
    root = os.path.realpath(sys.argv[2])
    server = socket(AF_INET, SOCK_STREAM)
    server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    try:
        server.bind(("127.0.0.1", port))
    except OSError as error:
        sys.exit(f"error: cannot listen on port {port}: {error}")
    server.listen(64)
    print(f"Listening on http://127.0.0.1:{port}/, serving {root}", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, root), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
