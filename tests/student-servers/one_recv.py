"""The course's founding report, done carefully, but for one thing: it takes a
single recv(1024) to be the whole request.

    python3 tests/student-servers/one_recv.py PORT ROOT

Everything the report got wrong is fixed here: a thread per client, files read
and sent as bytes with sendall, Content-Length in bytes, the Content-Type of
each file, a 404 with the root's error.html, 400 for a malformed request, and
no path that climbs out of the root. What is left is the report's

    message = connectionSocket.recv(1024)

taken as the request. TCP is a stream of bytes, not of messages: one recv
returns whatever has arrived so far, which may be the first half of a request
line, or the first kilobyte of a long head. A request that arrives in pieces
(a slow network, a large head) is answered as if those first bytes were all of
it: here, with 400 Bad Request. Every test that sends a small request in one
write passes; only a request sent in pieces shows the fault.

Expected: fails `split-request`, and nothing else at stages 1-3.
"""

import mimetypes
import os
import sys
import threading
from socket import AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket
from urllib.parse import unquote

ROOT = ""  # set in main


def response(status, reason, body, content_type="text/html; charset=utf-8"):
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def bad_request():
    return response(400, "Bad Request", b"<h1>400 Bad Request</h1>\n")


def not_found():
    try:
        with open(os.path.join(ROOT, "error.html"), "rb") as f:
            page = f.read()
    except OSError:
        page = b"<h1>404 Not Found</h1>\n"
    return response(404, "Not Found", page)


def headers_ok(lines, version):
    """Whether the header lines are well formed, as RFC 9112 asks."""
    hosts = 0
    lengths = set()
    for line in lines:
        name, colon, value = line.partition(":")
        # "Name: value", with no space in the name: RFC 9112 says to refuse
        # a space before the colon, and a line folded onto the next.
        if not colon or not name or name != name.strip() or " " in name:
            return False
        if name.lower() == "host":
            hosts += 1
        if name.lower() == "content-length":
            lengths.add(value.strip())
    if version == "HTTP/1.1" and hosts != 1:
        return False
    # Content-Length: one number, however many times it is given.
    return len(lengths) <= 1 and all(length.isascii() and length.isdigit() for length in lengths)


def answer(message):
    """The response to a request, given all of its bytes."""
    text = message.decode("latin-1")
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return bad_request()
    method, target, version = parts
    if not headers_ok(lines[1:], version):
        return bad_request()
    if method != "GET":
        return response(405, "Method Not Allowed", b"<h1>405 Method Not Allowed</h1>\n")

    filename = unquote(target.split("?")[0])
    if "\0" in filename:
        return bad_request()
    path = os.path.realpath(os.path.join(ROOT, filename.lstrip("/")))
    # realpath has removed every "..": what is left must still be in the root.
    if path != ROOT and not path.startswith(ROOT + os.sep):
        return not_found()
    if os.path.isdir(path):
        path = os.path.join(path, "index.html")
    try:
        with open(path, "rb") as f:
            outputdata = f.read()
    except OSError:
        return not_found()
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return response(200, "OK", outputdata, content_type)


class ClientThread(threading.Thread):
    def __init__(self, connect, address):
        threading.Thread.__init__(self, daemon=True)
        self.connectionSocket = connect
        self.addr = address

    def run(self):
        try:
            # The fault: one recv, taken to be the whole request.
            message = self.connectionSocket.recv(1024)
            if not message:
                return
            print(self.addr, message.split(b"\r\n", 1)[0], flush=True)
            self.connectionSocket.sendall(answer(message))
        except OSError as error:  # the client went away: its problem, not ours
            print(self.addr, error, flush=True)
        finally:
            self.connectionSocket.close()


def main():
    global ROOT
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 one_recv.py PORT ROOT")
    serverPort = int(sys.argv[1])
    ROOT = os.path.realpath(sys.argv[2])
    if not os.path.isdir(ROOT):
        sys.exit(f"error: no such folder: {sys.argv[2]}")

    serverSocket = socket(AF_INET, SOCK_STREAM)
    serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    serverSocket.bind(("127.0.0.1", serverPort))
    serverSocket.listen(64)
    print(f"Server is up and running on port {serverPort}", flush=True)
    while True:
        connectionSocket, addr = serverSocket.accept()
        ClientThread(connectionSocket, addr).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
