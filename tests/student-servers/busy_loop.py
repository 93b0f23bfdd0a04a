"""A thread-per-client file server whose threads can spin for ever.

    python3 tests/student-servers/busy_loop.py PORT ROOT

To read the rest of a request head that did not come in one piece, it makes
the socket non-blocking ("so that a slow client cannot hold the thread in
recv") and calls recv in a loop until the blank line arrives, going round
again at once whenever there is nothing to read yet. Two faults in one loop:

- it never sleeps or waits: while a client is slow, its thread burns a core;
- it never checks for the end of the stream: once a client has hung up
  half-way through a head, recv returns b"" (not an error) at once, every
  time, and the loop goes round for as long as the server lives.

It still answers everyone else, if a little slower, so a grader that only
asks "does it still serve?" after the bad clients passes it. Measured with
`ps` or `top` a minute later, one core is busy doing nothing, for ever: the
fault of the pre-forking server in C that spun at 55% CPU for every
half-sent request.

Otherwise correct for stages 1-3: bytes, Content-Length and Content-Type
right, no path out of the root, 404 with error.html, 400 for malformed
requests.

Expected: fails `survives-bad-clients`, and nothing else at stages 1-3.
"""

import os
import socket
import sys
import threading
from urllib.parse import unquote

MAX_HEAD = 16 * 1024

CONTENT_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".txt": "text/plain",
    ".png": "image/png",
}


class BadRequest(Exception):
    pass


def read_head(client):
    data = client.recv(4096)
    if not data:
        return None  # connected and left without a word
    client.setblocking(False)
    while b"\r\n\r\n" not in data and len(data) <= MAX_HEAD:
        try:
            data += client.recv(4096)  # the fault: b"" once the client has gone
        except BlockingIOError:
            continue  # nothing yet: ask again, at once
    client.setblocking(True)
    if len(data) > MAX_HEAD:
        raise BadRequest("request head too large")
    return data.split(b"\r\n\r\n")[0]


def parse(head):
    """The method and target of a request head, if it is well formed."""
    request_line, *lines = head.decode("latin-1").split("\r\n")
    words = request_line.split(" ")
    if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise BadRequest("bad request line")
    fields = {}
    for line in lines:
        name, colon, value = line.partition(":")
        # RFC 9112: refuse a space before the colon, and folded lines.
        if not colon or not name or any(c.isspace() for c in name):
            raise BadRequest("bad header line")
        fields.setdefault(name.lower(), []).append(value.strip())
    if words[2] == "HTTP/1.1" and len(fields.get("host", [])) != 1:
        raise BadRequest("HTTP/1.1 needs one Host")
    lengths = set(fields.get("content-length", []))
    if len(lengths) > 1 or any(not (n.isascii() and n.isdigit()) for n in lengths):
        raise BadRequest("bad Content-Length")
    return words[0], words[1]


def respond(client, status, body, content_type="text/html"):
    client.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
    )


def answer(client, root):
    head = read_head(client)
    if head is None:
        return
    method, target = parse(head)
    print(method, target, flush=True)
    if method != "GET":
        respond(client, "405 Method Not Allowed", b"<h1>405</h1>\n")
        return
    path = os.path.normpath(os.path.join(root, "." + unquote(target.split("?")[0])))
    if "\0" in path or os.path.commonpath([root, path]) != root:
        raise BadRequest("path outside the root")
    if os.path.isdir(path):
        path = os.path.join(path, "index.html")
    if not os.path.isfile(path):
        with open(os.path.join(root, "error.html"), "rb") as page:
            respond(client, "404 Not Found", page.read())
        return
    with open(path, "rb") as f:
        body = f.read()
    kind = CONTENT_TYPES.get(os.path.splitext(path)[1], "application/octet-stream")
    respond(client, "200 OK", body, kind)


def serve(client, root):
    with client:
        try:
            try:
                answer(client, root)
            except BadRequest as problem:
                print("400:", problem, flush=True)
                respond(client, "400 Bad Request", b"<h1>400 Bad Request</h1>\n")
        except OSError as error:  # the client went away
            print("connection error:", error, flush=True)


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 busy_loop.py PORT ROOT")
    root = os.path.realpath(sys.argv[2])
    if not os.path.isdir(root):
        sys.exit(f"error: no such folder: {sys.argv[2]}")
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    print(f"http://127.0.0.1:{sys.argv[1]}/ serving {root}", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, root), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
