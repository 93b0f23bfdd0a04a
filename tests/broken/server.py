#!/usr/bin/env python3
"""A small web server in Python, for the grading tests (tests/grading.rs).

Run as it is, it is a correct server for stages 1 to 4 of the course: a thread
per client, files sent byte for byte with their length and type, nothing
outside the root, 404 with the site's error.html, 400 for a malformed request,
and on Ctrl-C it finishes the responses under way and exits with status 0.
That is the "grade a Python submission" story.

Each --defect breaks it in one way a student's server is often broken, so the
tests can show that every check of the grader catches a real mistake:

    python3 tests/broken/server.py PORT ROOT [--defect NAME]
"""

import argparse
import os
import signal
import socket
import sys
import threading
import time
from urllib.parse import unquote

DEFECTS = {
    "crash-at-start": "exits with an error before it listens",
    "text-mode": "reads text files in text mode, which turns CRLF into LF",
    "binary-as-text": "decodes every file as UTF-8, which mangles binary files",
    "length-in-characters": "counts Content-Length of text files in characters, not bytes",
    "html-for-everything": "sends Content-Type: text/html for every file",
    "flat-root": "serves only the file's base name from the root, losing sub-folders",
    "leak": "joins the request path to the root without checking for ..",
    "exit-on-bad-request": "answers a malformed request, then exits",
    "single-threaded": "serves one client at a time",
    "pool-of-two": "serves at most two connections at a time",
    "no-404-page": "answers a missing file with a text of its own, not error.html",
    "no-400": "closes the connection on a malformed request without a word",
    "no-join": "on Ctrl-C exits at once; its daemon threads die mid-download",
    "reraise": "on Ctrl-C finishes the downloads, then lets KeyboardInterrupt escape",
    "join-forever": "on Ctrl-C waits for every client with no time limit, idle ones too",
    "ignore-ctrl-c": "ignores Ctrl-C",
}

READ_TIMEOUT = 10  # seconds a client has to send its request
SHUTDOWN_TIMEOUT = 2  # seconds to wait for busy clients after Ctrl-C
MAX_HEAD = 16 * 1024

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
}
TEXT = (".html", ".css", ".txt")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("root")
    parser.add_argument("--defect", choices=sorted(DEFECTS))
    args = parser.parse_args()
    defect = args.defect
    if defect == "crash-at-start":
        sys.exit("error: cannot start (defect crash-at-start)")

    root = os.path.realpath(args.root)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    # Wake up now and then, so Ctrl-C is noticed even if the signal happens to
    # be delivered to a client's thread rather than the main one.
    listener.settimeout(0.5)
    if defect == "ignore-ctrl-c":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"Listening on http://127.0.0.1:{args.port}/", flush=True)

    workers = threading.BoundedSemaphore(2) if defect == "pool-of-two" else None
    clients = []
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            if defect == "single-threaded":
                handle(conn, root, defect)
                continue
            if workers:
                workers.acquire()  # the accept loop waits for a free worker
            thread = threading.Thread(
                target=serve, args=(conn, root, defect, workers), daemon=True
            )
            thread.start()
            clients = [client for client in clients if client.is_alive()]
            clients.append(thread)
    except KeyboardInterrupt:
        listener.close()
        if defect == "no-join":
            sys.exit(0)
        deadline = None if defect == "join-forever" else time.monotonic() + SHUTDOWN_TIMEOUT
        for client in clients:
            client.join(None if deadline is None else max(0, deadline - time.monotonic()))
        if defect == "reraise":
            raise
    # Returning ends the process with status 0; daemon threads still waiting
    # on idle clients end with it.


def serve(conn, root, defect, workers):
    try:
        handle(conn, root, defect)
    finally:
        if workers:
            workers.release()


def handle(conn, root, defect):
    with conn:
        try:
            conn.settimeout(None if defect == "join-forever" else READ_TIMEOUT)
            head = read_head(conn)
            if head is not None:
                respond(conn, head, root, defect)
        except OSError as error:  # timeouts, resets, broken pipes: this client only
            print(f"connection error: {error}", file=sys.stderr, flush=True)


def read_head(conn):
    """The request head, up to its blank line; None if the client left first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_HEAD:
            break
    return data.split(b"\r\n\r\n", 1)[0]


def respond(conn, head, root, defect):
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        if defect == "no-400":
            return
        send(conn, 400, "Bad Request", b"<h1>400 Bad Request</h1>\n", TYPES[".html"])
        if defect == "exit-on-bad-request":
            os._exit(1)
        return
    method, target, _ = parts
    if method != "GET":
        send(conn, 405, "Method Not Allowed", b"<h1>405 Method Not Allowed</h1>\n", TYPES[".html"])
        return
    path = find_file(root, target, defect)
    if path is None:
        not_found(conn, root, defect)
        return
    body = read_file(path, defect)
    extension = os.path.splitext(path)[1].lower()
    content_type = TYPES.get(extension, "application/octet-stream")
    if defect == "html-for-everything":
        content_type = "text/html"
    length = len(body)
    if defect == "length-in-characters" and extension in TEXT:
        length = len(body.decode("utf-8"))
    send(conn, 200, "OK", body, content_type, length)


def find_file(root, target, defect):
    """The file a target names under root, or None."""
    path = unquote(target.split("?", 1)[0])
    if defect == "flat-root":
        path = os.path.basename(path)
    try:
        if defect == "leak":
            full = root + "/" + path  # the report's mistake: no check at all
        else:
            full = os.path.realpath(os.path.join(root, path.lstrip("/")))
            if os.path.commonpath([root, full]) != root:
                return None
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        return full if os.path.isfile(full) else None
    except ValueError:  # a NUL byte in the path
        return None


def read_file(path, defect):
    if defect == "text-mode" and path.endswith(TEXT):
        with open(path, encoding="utf-8") as file:
            return file.read().encode("utf-8")
    if defect == "binary-as-text":
        with open(path, encoding="utf-8", errors="replace", newline="") as file:
            return file.read().encode("utf-8")
    with open(path, "rb") as file:
        return file.read()


def not_found(conn, root, defect):
    if defect == "no-404-page":
        send(conn, 404, "Not Found", b"404 Not Found\n", TYPES[".txt"])
        return
    try:
        with open(os.path.join(root, "error.html"), "rb") as file:
            page = file.read()
    except OSError:
        page = b"<h1>404 Not Found</h1>\n"
    send(conn, 404, "Not Found", page, TYPES[".html"])


def send(conn, status, reason, body, content_type, length=None):
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n"
        "Connection: close\r\n\r\n"
    )
    conn.sendall(head.encode("latin-1") + body)


if __name__ == "__main__":
    main()
