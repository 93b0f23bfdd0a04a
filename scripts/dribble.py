#!/usr/bin/env python3
"""Sends a request head one byte at a time, forever, and says when the server gives up.

    python3 scripts/dribble.py http://127.0.0.1:3000/ [SECONDS_BETWEEN_BYTES]

This is the "slowloris" attack: a client that is never idle for long, so a
timeout on each read never fires, but never finishes its request either. A
server that only has a timeout per read keeps a thread (or a connection slot)
for it as long as it likes. One with a deadline for the whole head cuts it off.
"""

import socket
import sys
import time
from urllib.parse import urlsplit


def main() -> int:
    url = urlsplit(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000/")
    pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    head = f"GET {url.path or '/'} HTTP/1.1\r\nHost: {url.netloc}\r\nX-Slow: ".encode()
    stream = socket.create_connection((url.hostname, url.port or 80))
    stream.settimeout(pause)
    started = time.monotonic()
    sent = 0
    answer = b""
    while True:
        byte = head[sent : sent + 1] or b"a"
        try:
            stream.sendall(byte)
            sent += 1
            answer = stream.recv(65536)
        except socket.timeout:
            continue
        except OSError as error:
            print(f"after {time.monotonic() - started:.1f} s: {error.strerror}")
            return 0
        if not answer:
            break
        # The server answered: read the rest, up to its close.
        while chunk := stream.recv(65536):
            answer += chunk
        break
    took = time.monotonic() - started
    status = answer.split(b"\r\n", 1)[0].decode("latin-1") or "(no answer)"
    print(f"sent {sent} bytes, one every {pause} s")
    print(f"after {took:.1f} s the server answered: {status}, and closed the connection")
    return 0


if __name__ == "__main__":
    sys.exit(main())
