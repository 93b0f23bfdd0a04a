#!/usr/bin/env python3
"""Downloads a URL slowly and says whether all of it arrived.

    python3 scripts/slow-download.py http://127.0.0.1:3000/big.bin

Reads the response at a fixed rate (20 MB a second unless --rate says otherwise),
so that a download lasts long enough for you to press Ctrl-C in the server's
terminal while it runs. Prints how far it got each second, then whether the
server sent every byte its Content-Length promised. Needs nothing but Python 3.
(curl's --limit-rate would do, but some curl versions do not keep to it.)
"""
import argparse
import socket
import sys
import time
from urllib.parse import urlsplit


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=20.0, help="megabytes a second")
    args = parser.parse_args()

    url = urlsplit(args.url)
    sock = socket.create_connection((url.hostname, url.port or 80), timeout=30)
    sock.sendall(f"GET {url.path or '/'} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode())

    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            print("the server closed the connection before the headers were complete")
            return 1
        head += chunk
    head, body = head.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    print(f"{lines[0]}, Content-Length: {length} ({megabytes(length)})")

    got = len(body)
    start = time.monotonic()
    last_report = start
    step = 64 * 1024
    ending = "the server closed the connection"
    while got < length:
        # Stay at or below the rate: sleep until this many bytes are due.
        due = start + got / (args.rate * 1e6)
        time.sleep(max(0.0, due - time.monotonic()))
        try:
            chunk = sock.recv(min(step, length - got))
        except ConnectionResetError:
            ending = "the connection was reset"
            break
        if not chunk:
            break
        got += len(chunk)
        if time.monotonic() - last_report >= 1.0:
            last_report = time.monotonic()
            print(f"  {megabytes(got)} so far")
    sock.close()
    if got == length:
        print(f"all {got} bytes arrived")
        return 0
    print(f"{ending} after {got} of {length} bytes: the download was cut short")
    return 1


if __name__ == "__main__":
    sys.exit(main())
