"""A keep-alive file server on asyncio, for stage 6, that marks the end of a
response with the close wherever the connection closes after it.

    python3 tests/student-servers/close_delimited.py PORT ROOT \\
        --threads N --queue N --keep-alive-timeout SECONDS

RFC 9112 §6.3 gives a response three ways to end: a Content-Length, chunks,
or (with neither) the server closing the connection. This server writes a
Content-Length only where the connection stays open and the client must be
told where the response ends. A response after which it closes (the client
asked to close, with `Connection: close` or HTTP/1.0 without `keep-alive`;
an error; a 503) has no length: the body, then the close. That is what
HTTP/1.0 servers did, and what any client reads; but a client cannot tell
such a body from one cut short by a failure, which is why the course asks
for a length on every response.

The rest is the course's stage 6 done with asyncio, Python 3.11's standard
library, on one thread: each connection is a task, so an idle one costs no
thread. --threads is the number of responses it writes at once (a
semaphore: the pool's workers), --queue the number of whole requests that
may wait for one; a request beyond them gets `503` with `Retry-After` at
once. Requests on a connection are answered in order, pipelined ones too;
an idle connection is closed after --keep-alive-timeout seconds, a head that
takes more than 10 s too. On Ctrl-C (or SIGTERM) it stops accepting, closes
the connections that have no response under way, lets those under way finish
(5 s at most), and exits with status 0.

What it proves: a response framed by the close is a correct answer to
`connection-close` and to HTTP/1.0, and to every check that does not ask for
a length. Only `content-length` asks for one, and only it fails: its
requests say `Connection: close`, so its answers come with no length.

Expected: fails `content-length`, and nothing else at stages 1-6.
"""

import argparse
import asyncio
import os
import signal
import sys
from urllib.parse import unquote, urlsplit

READ_TIMEOUT = 10  # seconds for a whole request head
WRITE_TIMEOUT = 30  # seconds a client may leave a response unread
SHUTDOWN_TIMEOUT = 5  # seconds for responses under way after Ctrl-C
MAX_HEAD = 16 * 1024
BLOCK = 64 * 1024

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".gif": "image/gif",
}
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


class Refused(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


def parse(head):
    """(method, target, version, keep-alive) of a request head, or Refused."""
    request_line, *lines = head.decode("latin-1").split("\r\n")
    words = request_line.split(" ")
    if len(words) != 3 or not words[2].startswith("HTTP/"):
        raise Refused(400)
    method, target, version = words
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise Refused(505)
    hosts, lengths, options = 0, set(), set()
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or any(c.isspace() for c in name):
            raise Refused(400)
        name, value = name.lower(), value.strip(" \t")
        if name == "host":
            hosts += 1
        elif name == "content-length":
            lengths.add(value)
        elif name == "connection":
            options.update(option.strip().lower() for option in value.split(","))
    if version == "HTTP/1.1" and hosts != 1:
        raise Refused(400)
    if len(lengths) > 1 or any(not (n.isascii() and n.isdigit()) for n in lengths):
        raise Refused(400)
    if lengths - {"0"}:
        raise Refused(400)  # a GET with a body: not for a file server
    keep = "close" not in options and (version == "HTTP/1.1" or "keep-alive" in options)
    return method, target, version, keep


class Server:
    def __init__(self, args):
        self.root = os.path.realpath(args.root)
        self.keep_alive_timeout = args.keep_alive_timeout
        self.workers = asyncio.Semaphore(args.threads)
        self.queue = args.queue
        self.waiting = 0  # whole requests waiting for a worker
        self.connections = {}  # task -> whether a response is under way
        self.stopping = False

    async def serve(self, reader, writer):
        task = asyncio.current_task()
        self.connections[task] = False
        try:
            await self.converse(reader, writer, task)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass  # the client left, or was too slow: this connection only
        except asyncio.CancelledError:
            pass  # shutting down, with no response under way here
        finally:
            del self.connections[task]
            # close() only asks for the close: up to 64 KiB of the response
            # may still be in the transport's buffer, and it is lost if the
            # loop ends first, as it does at shutdown. Wait for the flush.
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), WRITE_TIMEOUT)
            except (OSError, asyncio.TimeoutError, asyncio.CancelledError):
                pass

    async def converse(self, reader, writer, task):
        timeout = READ_TIMEOUT
        while not self.stopping:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            except asyncio.LimitOverrunError:
                return await self.refuse(writer, 431)
            except (asyncio.IncompleteReadError, asyncio.TimeoutError):
                return  # closed or silent, between requests or half-way through a head
            try:
                method, target, version, keep = parse(head[:-4])
            except Refused as refused:
                return await self.refuse(writer, refused.status)
            print(method, target, flush=True)
            if self.waiting >= self.queue and self.workers.locked():
                return await self.refuse(writer, 503)
            self.waiting += 1
            try:
                await self.workers.acquire()
            finally:
                self.waiting -= 1
            try:
                self.connections[task] = True
                if method != "GET":
                    return await self.refuse(writer, 405)
                await self.answer(writer, target, version, keep and not self.stopping)
            finally:
                self.connections[task] = False
                self.workers.release()
            if not keep:
                return
            timeout = self.keep_alive_timeout

    async def answer(self, writer, target, version, keep):
        path = self.file_for(target)
        status = 200
        if path is None:
            status, path = 404, os.path.join(self.root, "error.html")
        with open(path, "rb") as file:
            lines = [
                f"HTTP/1.1 {status} {REASONS[status]}",
                f"Content-Type: {TYPES.get(os.path.splitext(path)[1].lower(), 'application/octet-stream')}",
            ]
            if keep:  # the client needs to know where this one ends
                lines.append(f"Content-Length: {os.fstat(file.fileno()).st_size}")
                if version == "HTTP/1.0":
                    lines.append("Connection: keep-alive")
            else:  # the close will tell it
                lines.append("Connection: close")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            while block := file.read(BLOCK):
                writer.write(block)
                await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)

    async def refuse(self, writer, status):
        """An error, and the close that ends it."""
        head = f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: text/html\r\nConnection: close\r\n"
        if status == 503:
            head += "Retry-After: 1\r\n"
        writer.write(f"{head}\r\n<h1>{status} {REASONS[status]}</h1>\n".encode("latin-1"))
        await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)

    def file_for(self, target):
        name = unquote(urlsplit(target).path)
        if "\0" in name:
            return None
        full = os.path.realpath(os.path.join(self.root, name.lstrip("/")))
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        return full if os.path.isfile(full) else None

    async def run(self, port):
        listener = await asyncio.start_server(
            self.serve, "127.0.0.1", port, limit=MAX_HEAD, backlog=256
        )
        print(f"Serving {self.root} on http://127.0.0.1:{port}/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        self.stopping = True
        listener.close()
        for task, answering in list(self.connections.items()):
            if not answering:
                task.cancel()
        under_way = [task for task, answering in self.connections.items() if answering]
        if under_way:
            await asyncio.wait(under_way, timeout=SHUTDOWN_TIMEOUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("root")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--queue", type=int, default=64)
    parser.add_argument("--keep-alive-timeout", type=float, default=5)
    args = parser.parse_args()
    if not os.path.isdir(args.root):
        sys.exit(f"error: no such folder: {args.root}")
    asyncio.run(Server(args).run(args.port))


if __name__ == "__main__":
    main()
