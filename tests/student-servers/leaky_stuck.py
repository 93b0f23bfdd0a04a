"""A thread-per-client file server with two faults that hide each other.

    python3 tests/student-servers/leaky_stuck.py PORT ROOT

1. It leaks. The request path is decoded and glued to the root with no check
   for "..", so `GET /../secret.txt` (what `curl --path-as-is` sends) reads a
   file beside the root, and `%2e%2e` works as well as `..`.

2. It gets stuck. It counts the hits on each path in a dict that every thread
   shares, under a lock taken with acquire() and given back with release(),
   not with `with`. The request line is parsed between the two, so the first
   request it cannot parse (garbage, a browser speaking TLS to it with
   https://, a line that is not three words) raises with the lock held, and
   the lock is never released. From then on the server still accepts every
   connection and reads every request, and every thread waits on the lock
   for ever: nothing is answered again.

Asked directly, first thing, it leaks. A grader that sends its traversal
payloads after something unparseable sees a server that answers nothing,
hence no leak: a check must not pass because the server stopped answering.

Expected at stage 3: fails `no-traversal` (a leak, or no answer), and
`bad-request` and `survives-bad-clients` (stuck after the first malformed
request); passes the rest, all of which send only requests it can parse.
"""

import os
import socket
import sys
import threading
from urllib.parse import unquote

TYPES = {
    "html": "text/html",
    "css": "text/css",
    "txt": "text/plain",
    "png": "image/png",
}

hits = {}
hits_lock = threading.Lock()


def read_head(conn):
    """The request head, up to the blank line; None if the client left first."""
    stream = conn.makefile("rb")
    lines = []
    while True:
        line = stream.readline(65536)
        if not line.endswith(b"\n"):
            return None
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)
        lines.append(line)


def send(conn, status, body, content_type="text/html"):
    head = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    conn.sendall("\r\n".join(head + ["Connection: close", "", ""]).encode() + body)


def handle(conn, root):
    with conn:
        try:
            head = read_head(conn)
            if head is None:
                return
            hits_lock.acquire()
            # The fault: if either of the next two lines raises, the lock is
            # never released (`with hits_lock:` would release it).
            method, target, version = head.decode().split("\r\n")[0].split(" ")
            hits[target] = hits.get(target, 0) + 1
            hits_lock.release()
            print(f"{method} {target} ({hits[target]})", flush=True)

            # The other fault: nothing stops ".." from climbing out of the root.
            path = root + unquote(target.split("?")[0])
            if os.path.isdir(path):
                path = os.path.join(path, "index.html")
            if not os.path.isfile(path):
                with open(os.path.join(root, "error.html"), "rb") as page:
                    send(conn, "404 Not Found", page.read())
                return
            with open(path, "rb") as file:
                body = file.read()
            extension = path.rsplit(".", 1)[-1].lower()
            send(conn, "200 OK", body, TYPES.get(extension, "application/octet-stream"))
        except Exception as error:  # one client's trouble must not end the server
            print(f"error: {error!r}", flush=True)


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 leaky_stuck.py PORT ROOT")
    port, root = int(sys.argv[1]), sys.argv[2].rstrip("/")
    if not os.path.isdir(root):
        sys.exit(f"error: no such folder: {root}")
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    print(f"Serving {root} on http://127.0.0.1:{port}/", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, root), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
