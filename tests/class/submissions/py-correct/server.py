"""This stage-4 server: a thread per client, files sent as bytes, the site's
error.html for a 404, 400 for a malformed request, and Ctrl-C that finishes
the downloads under way (for 5 s at most) and exits 0.

    python3 server.py PORT ROOT

Expected: passes every check of stages 1-4 (one of the class's two correct
submissions).
"""

import mimetypes
import os
import signal
import socket
import sys
import threading
import time
from urllib.parse import unquote

ROOT = os.path.realpath(sys.argv[2])
TYPES = {".html": "text/html", ".css": "text/css", ".png": "image/png", ".txt": "text/plain"}


def reply(conn, status, body, ctype="text/html"):
    head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    conn.sendall(head.encode("latin-1") + body)


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > 65536:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def well_formed(lines):
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.0", "HTTP/1.1") or not parts[1].startswith("/"):
        return None
    hosts = 0
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            return None
        if name.lower() == "host":
            hosts += 1
        if name.lower() == "content-length" and not value.strip().isdigit():
            return None
    if parts[2] == "HTTP/1.1" and hosts != 1:
        return None
    return parts


def not_found(conn):
    with open(os.path.join(ROOT, "error.html"), "rb") as f:
        reply(conn, "404 Not Found", f.read())


def serve(conn):
    with conn:
        conn.settimeout(10)
        try:
            head = read_head(conn)
            if head is None:
                return
            parts = well_formed(head.split("\r\n"))
            if parts is None:
                return reply(conn, "400 Bad Request", b"<h1>400 Bad Request</h1>\n")
            path = unquote(parts[1].split("?")[0])
            if "\\" in path or "\0" in path or ".." in path.split("/"):
                return reply(conn, "400 Bad Request", b"<h1>400 Bad Request</h1>\n")
            file = os.path.realpath(os.path.join(ROOT, path.lstrip("/")))
            if os.path.isdir(file):
                file = os.path.join(file, "index.html")
            if not file.startswith(ROOT + os.sep) or not os.path.isfile(file):
                return not_found(conn)
            with open(file, "rb") as f:
                body = f.read()
            ctype = TYPES.get(os.path.splitext(file)[1], "application/octet-stream")
            reply(conn, "200 OK", body, ctype)
        except OSError:
            pass


def main():
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    # Python runs a signal's handler in the main thread, but the kernel may
    # deliver SIGINT to a worker: then accept() is not interrupted. A timeout
    # lets the loop look at `stopping` twice a second all the same.
    listener.settimeout(0.5)
    stopping = threading.Event()

    def on_interrupt(signum, frame):
        stopping.set()
        listener.close()

    signal.signal(signal.SIGINT, on_interrupt)
    workers = []
    while not stopping.is_set():
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        except OSError:
            break
        worker = threading.Thread(target=serve, args=(conn,), daemon=True)
        worker.start()
        workers.append(worker)
        workers = [w for w in workers if w.is_alive()]
    # Finish what is under way, but let no silent client hold us past 5 s.
    deadline = time.monotonic() + 5
    for worker in workers:
        worker.join(max(0, deadline - time.monotonic()))
    sys.exit(0)


main()
