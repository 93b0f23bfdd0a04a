#!/usr/bin/env python3
"""Checks the server's responses with httplint, an HTTP linter (pip install httplint).

Starts the server binary on a free port, serving www/, once for every stage from
`not-found` on (the stages that answer errors). For each stage it sends a set of
requests over a raw socket: a page, a stylesheet, an image, a missing page, a
conditional GET that must come back 304, HEAD, methods that get 405, a folder
without its slash, malformed requests, a gzipped page, byte ranges and an
If-None-Match. Each response is read exactly as a
client frames it (the head, then Content-Length bytes, nothing for HEAD and 304)
and handed to httplint together with the request that caused it, so that it can
judge the response in context (that a 405 names the allowed methods, that a HEAD
response carries no body, that a 304 carries what it should).

Every finding is printed. The check fails on any BAD finding, on a response
with a status other than the one expected, and on bytes after the end of a
response. The only BAD findings allowed are the ones httplint uses to describe
a status itself (for a 414 or a 505, say), for the requests that are built to
get that status.

Usage (from the repository root):

    python3 scripts/httplint-check.py            # builds the debug binary first
    python3 scripts/httplint-check.py --release  # or the release one
    python3 scripts/httplint-check.py --binary target/debug/multithreaded-server
"""

import argparse
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from httplint import HttpRequestLinter, HttpResponseLinter

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 20.0
USER_AGENT = "httplint-check"


@dataclass
class Exchange:
    """One request and what its response must be."""

    name: str
    method: str
    target: str
    status: int
    headers: list = field(default_factory=list)
    # The request line as sent, when it is deliberately malformed.
    raw_line: str = ""
    # The httplint note that merely describes this status, if it is BAD.
    describes_status: str = ""


def exchanges(last_modified: str) -> list:
    return [
        Exchange("a page", "GET", "/", 200),
        Exchange("a stylesheet", "GET", "/style.css", 200),
        Exchange("an image", "GET", "/images/steps.png", 200),
        Exchange("an SVG image", "GET", "/images/favicon.svg", 200),
        Exchange("a missing page", "GET", "/no/such/page.html", 404),
        Exchange(
            "a page not modified since",
            "GET",
            "/",
            304,
            headers=[("If-Modified-Since", last_modified)],
        ),
        Exchange("HEAD of a page", "HEAD", "/", 200),
        Exchange("HEAD of an image", "HEAD", "/images/steps.png", 200),
        Exchange("HEAD of a missing page", "HEAD", "/missing", 404),
        Exchange("POST", "POST", "/", 405, headers=[("Content-Length", "0")]),
        Exchange("DELETE", "DELETE", "/index.html", 405),
        Exchange("a folder without its slash", "GET", "/images", 301),
        Exchange("a malformed header", "GET", "/", 400, headers=[("Bad Header", "x")]),
        Exchange(
            "a request line over 8 KiB",
            "GET",
            "/" + "a" * 9000,
            414,
            describes_status="STATUS_URI_TOO_LONG",
        ),
        Exchange(
            "HTTP/2.0",
            "GET",
            "/",
            505,
            raw_line="GET / HTTP/2.0",
            describes_status="STATUS_VERSION_NOT_SUPPORTED",
        ),
        Exchange(
            "a transfer coding before chunked",
            "GET",
            "/",
            501,
            headers=[("Transfer-Encoding", "gzip, chunked")],
        ),
        Exchange(
            "a page, gzipped", "GET", "/", 200, headers=[("Accept-Encoding", "gzip")]
        ),
        Exchange("a byte range", "GET", "/style.css", 206, headers=[("Range", "bytes=0-99")]),
        Exchange(
            "a range past the end",
            "GET",
            "/style.css",
            416,
            headers=[("Range", "bytes=99999999-")],
        ),
        Exchange(
            "a page whose tag matches",
            "GET",
            "/style.css",
            304,
            headers=[("If-None-Match", "*")],
        ),
    ]


def request_bytes(exchange: Exchange) -> bytes:
    line = exchange.raw_line or f"{exchange.method} {exchange.target} HTTP/1.1"
    headers = [("Host", "127.0.0.1"), ("User-Agent", USER_AGENT), ("Connection", "close")]
    head = line + "\r\n"
    for name, value in headers + exchange.headers:
        head += f"{name}: {value}\r\n"
    return (head + "\r\n").encode("latin-1")


def read_response(sock: socket.socket, head_only: bool) -> tuple:
    """Reads one response as a client frames it: (head, body, extra bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError(f"the connection closed before the end of the head: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"\r\ncontent-length:[ \t]*(\d+)", head, re.IGNORECASE)
    if head_only or status == 304:
        length = 0
    elif match:
        length = int(match.group(1))
    else:
        raise RuntimeError("a response without Content-Length")
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError(f"the body stopped at {len(rest)} of {length} bytes")
        rest += chunk
    body, extra = rest[:length], rest[length:]
    # We asked for `Connection: close`: all that may follow is the close.
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        extra += chunk
    return head, body, extra


def lint(exchange: Exchange, request: bytes, head: bytes, body: bytes) -> HttpResponseLinter:
    request_linter = HttpRequestLinter()
    line, _, header_block = request.partition(b"\r\n")
    method, target, version = line.split(b" ")
    request_linter.process_request_topline(method, target, version.split(b"/")[1])
    request_linter.process_headers(split_headers(header_block.strip()))
    request_linter.finish_content(True)

    response = HttpResponseLinter(start_time=time.time())
    response.request = request_linter
    response.is_head_response = exchange.method == "HEAD"
    status_line, _, header_block = head.partition(b"\r\n")
    version, code, phrase = status_line.split(b" ", 2)
    response.process_response_topline(version.split(b"/")[1], code, phrase)
    response.process_headers(split_headers(header_block))
    if body:
        response.feed_content(body)
    response.finish_content(True)
    return response


def split_headers(block: bytes) -> list:
    headers = []
    for line in block.split(b"\r\n"):
        if line:
            name, _, value = line.partition(b":")
            headers.append((name, value.strip()))
    return headers


def check_stage(binary: Path, stage: str) -> int:
    """Runs every exchange against one stage; returns the number of problems."""
    server = subprocess.Popen(
        [str(binary), "--stage", stage, "--port", "0", "--root", str(REPO / "www")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )
    try:
        ready = server.stdout.readline()
        match = re.match(r"Listening on http://([\d.]+):(\d+)/", ready)
        if not match:
            print(f"{stage}: no ready line: {ready!r}")
            return 1
        address = (match.group(1), int(match.group(2)))
        print(f"\n## stage {stage}: {ready.strip()}")

        # The 304 needs the page's own Last-Modified. (If this fails, the
        # exchange "a page" below fails too, and says why.)
        try:
            first, _, _ = fetch(address, Exchange("", "GET", "/", 200))
        except (OSError, RuntimeError, ValueError):
            first = b""
        found = re.search(rb"\r\nLast-Modified: ([^\r]+)", first)
        last_modified = found.group(1).decode() if found else "none"

        problems = 0
        for exchange in exchanges(last_modified):
            problems += check_exchange(address, exchange)
        return problems
    finally:
        server.kill()
        server.wait()


def fetch(address: tuple, exchange: Exchange) -> tuple:
    request = request_bytes(exchange)
    with socket.create_connection(address, timeout=TIMEOUT) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendall(request)
        return read_response(sock, exchange.method == "HEAD")


def check_exchange(address: tuple, exchange: Exchange) -> int:
    try:
        head, body, extra = fetch(address, exchange)
    except (OSError, RuntimeError, ValueError) as error:
        print(f"\n### {exchange.name}: FAILED: {error}")
        return 1
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    print(f"\n### {exchange.name}: {exchange.method} {exchange.target[:40]} -> {status_line}")
    problems = 0
    if f" {exchange.status} " not in status_line + " ":
        print(f"* [BAD] expected status {exchange.status}")
        problems += 1
    if extra:
        print(f"* [BAD] {len(extra)} bytes after the end of the response")
        problems += 1
    linter = lint(exchange, request_bytes(exchange), head, body)
    for note in linter.notes:
        for level, name, summary in [(note.level, type(note).__name__, note.summary)] + [
            (sub.level, type(sub).__name__, sub.summary) for sub in note.subnotes
        ]:
            expected = name == exchange.describes_status
            mark = " (describes the status asked for)" if expected else ""
            print(f"* [{level.name}] {summary} ({name}){mark}")
            if level.name == "BAD" and not expected:
                problems += 1
    return problems


def stages_that_answer_errors(binary: Path) -> list:
    """The stages from `not-found` (3) on that this binary has, by number.

    Each number is tried with a root that does not exist: a stage that is
    compiled in fails on the root, one that is not says so, and the number after
    the last stage is not a valid value at all.
    """
    stages = []
    for number in range(3, 100):
        result = subprocess.run(
            [str(binary), "--stage", str(number), "--port", "0", "--root", "/nonexistent"],
            capture_output=True,
            text=True,
        )
        if "invalid value" in result.stderr:
            break
        if "not compiled in" in result.stderr:
            print(f"stage {number}: not compiled in, skipped")
        else:
            stages.append(str(number))
    return stages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, help="the server binary to check")
    parser.add_argument("--release", action="store_true", help="build and check the release binary")
    args = parser.parse_args()

    binary = args.binary
    if binary is None:
        profile = ["--release"] if args.release else []
        subprocess.run(["cargo", "build", "--quiet", *profile], cwd=REPO, check=True)
        binary = REPO / "target" / ("release" if args.release else "debug") / "multithreaded-server"

    problems = 0
    checked = 0
    for stage in stages_that_answer_errors(binary):
        problems += check_stage(binary, stage)
        checked += 1
    if checked == 0:
        print("no stage that answers errors is compiled in")
        return 1
    print(f"\nhttplint: {checked} stage(s) checked, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
