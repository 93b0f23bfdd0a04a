#!/usr/bin/env python3
"""Sends one raw HTTP request and shows every byte that goes each way.

    python3 scripts/raw-http.py 'GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n'

The request is sent exactly as written, after `\\r` and `\\n` are turned into the
bytes they name. Then everything the server sends is read until it closes the
connection, and shown a line at a time, with the line ends visible and any byte
that is not printable ASCII written as \\xNN. With --clock, it first says when
each piece arrived and when the connection closed, counted from the moment the
request was sent. Used by the book's transcripts; needs nothing but Python 3.
"""
import argparse
import socket
import time


WIDTH = 76


def escape(byte: int) -> str:
    named = {13: "\\r", 10: "\\n", 9: "\\t", 92: "\\\\"}
    return named.get(byte, chr(byte) if 32 <= byte < 127 else f"\\x{byte:02x}")


def show(data: bytes, limit: int) -> None:
    lines = data.split(b"\n")
    # split() leaves the text after the last \n: empty when the data ends in \n.
    lines = [line + b"\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    for line in lines[:limit]:
        text = ""
        for i, byte in enumerate(line):
            if len(text) >= WIDTH:
                text += f" ... ({len(line) - i} more bytes on this line)"
                break
            text += escape(byte)
        print(f"    {text}")
    if len(lines) > limit:
        print(f"    ... {len(lines) - limit} more lines")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("request", help="the request, with \\r and \\n written as such")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--lines", type=int, default=40, help="show at most this many lines of the reply")
    parser.add_argument("--clock", action="store_true", help="say when each read arrived")
    args = parser.parse_args()

    request = args.request.replace("\\r", "\r").replace("\\n", "\n").encode("latin-1")
    with socket.create_connection((args.host, args.port), timeout=30) as sock:
        sock.sendall(request)
        sent_at = time.monotonic()
        print(f"sent {len(request)} bytes:")
        show(request, args.lines)
        reply = b""
        reads = 0
        while chunk := sock.recv(65536):
            if args.clock:
                print(f"  {time.monotonic() - sent_at:7.3f} s: read {len(chunk)} bytes")
            reply += chunk
            reads += 1
        if args.clock:
            print(f"  {time.monotonic() - sent_at:7.3f} s: the server closed the connection")
    print(f"received {len(reply)} bytes in {reads} read(s), then the server closed the connection:")
    show(reply, args.lines)


if __name__ == "__main__":
    main()
