#!/usr/bin/env python3
"""A small web server in Python, for the grading tests (tests/grading.rs).

Run as it is, it is a correct server for every stage of the course, 1 to 7:
files sent byte for byte with their length and type, nothing outside the root,
404 with the site's error.html, 400 for a malformed request; a fixed pool of
worker threads fed by a bounded queue, and 503 with Retry-After when it is
full; persistent connections (HTTP/1.1 keep-alive, HTTP/1.0 on request,
pipelining), with idle connections waiting in a readiness loop (the selectors
module: epoll on Linux) rather than in a thread, ten thousand of them as
easily as ten; and on Ctrl-C it finishes the
responses under way and exits with status 0. That is the "grade a Python
submission" story.

It also speaks the HTTP of the grader's extensions: an ETag for every file
and 304 for If-None-Match, single byte ranges (206, and 416 past the end),
gzip negotiated by Accept-Encoding, and, with --uploads DIR, PUT /uploads/NAME.

Each --defect breaks it in one way a student's server is often broken, so the
tests can show that every check of the grader catches a real mistake. Some
defects need another way of serving: one client at a time, a thread per
client, or a worker per connection.

    python3 tests/broken/server.py PORT ROOT [--threads N] [--queue N]
        [--keep-alive-timeout SECONDS] [--uploads DIR] [--send-rate BYTES]
        [--defect NAME]
"""

import argparse
import collections
import gzip
import os
import queue
import selectors
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
    "lower-case-paths": "lower-cases every path before it looks for the file",
    "bare-lf": "ends the lines of its response heads with a bare \\n, not \\r\\n",
    "dies-on-second-download": "exits when data.bin is asked for a second time, as a server "
    "that frees its cached copy of a file once too often would crash",
    "exit-on-bad-request": "answers a malformed request, then exits",
    "one-recv": "takes what one recv returns as the whole request head",
    "spins": "once a client hangs up half-way through a head, spins on its socket for ever",
    "single-threaded": "serves one client at a time",
    "pool-of-two": "serves at most two connections at a time",
    "no-404-page": "answers a missing file with a text of its own, not error.html",
    "no-400": "closes the connection on a malformed request without a word",
    "request-line-only": "checks the request line and never looks at the header lines, so it "
    "serves requests RFC 9112 says to refuse: no colon, a space before it, no Host, a "
    "Content-Length that is not a number",
    "no-join": "on Ctrl-C exits at once; its daemon threads die mid-download",
    "reraise": "on Ctrl-C finishes the downloads, then lets KeyboardInterrupt escape",
    "join-forever": "on Ctrl-C waits for every client with no time limit, idle ones too",
    "ignore-ctrl-c": "ignores Ctrl-C",
    "thread-per-client-capped": "starts a thread for every client, up to threads + queue of them, "
    "and answers 503 beyond: bounded, but by the queue, not the workers",
    "unbounded-queue": "queues every connection it cannot serve yet, and never answers 503",
    "worker-dies": "decodes the request line as strict UTF-8 in the worker, and a worker "
    "whose job raises dies, so the pool shrinks",
    "wait-for-queue": "on Ctrl-C serves everything still queued, with no time limit",
    "closes-after-five": "closes a kept-alive connection after five requests, without saying "
    "Connection: close in the fifth response",
    "drops-pipelined": "throws away the bytes after the first request head it reads",
    "ignores-connection-close": "keeps an HTTP/1.1 connection open when asked to close it",
    "http10-kept-open": "keeps HTTP/1.0 connections open, as if they were HTTP/1.1",
    "no-idle-timeout": "never closes a kept-alive connection that stays idle",
    "worker-per-connection": "keeps each connection, idle or not, on a worker of the pool "
    "until it closes",
    "low-file-limit": "keeps the soft limit of 1,024 open files many shells start a process "
    "with, and every silent client, so it cannot hold more than about a thousand connections",
    "blocks-on-hang-up": "gives a silent client all the time it wants, and does 2 ms of "
    "blocking work (a synchronous log write, say) on the loop's own thread for every client "
    "that hangs up, so ten thousand hang-ups stall it for 20 s",
    # The extensions (grade --with ...).
    "etag-never-304": "sends an ETag with every file, and never answers If-None-Match with 304",
    "range-end-exclusive": "reads bytes=a-b as a to b with b left out, as Python's slices do",
    "range-past-end-whole": "answers a range that starts past the end with the whole file",
    "gzip-ignores-q": "gzips for any Accept-Encoding that names gzip, gzip;q=0 too",
    "upload-200-for-new": "answers 200 for an upload that created a file, not 201",
    "upload-writes-as-it-comes": "writes an upload's bytes to its name as they come, so a "
    "cut connection leaves half a file",
    "upload-escapes": "joins an upload's name to the folder without checking for ..",
}

READ_TIMEOUT = 10  # seconds a client has to send a whole request head
WRITE_TIMEOUT = 10  # seconds a response may take to send
SHUTDOWN_TIMEOUT = 5  # seconds to wait for responses under way after Ctrl-C (as the course)
MAX_HEAD = 16 * 1024
TICK = 0.1  # how often the readiness loop looks at deadlines

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
}
TEXT = (".html", ".css", ".txt")
HTML = TYPES[".html"]
BARE_LF = False  # set by --defect bare-lf
SEND_RATE = None  # set by --send-rate
DOWNLOADS = collections.Counter()  # for --defect dies-on-second-download


class Site:
    """What every connection needs to know: the root, the settings, the defect."""

    def __init__(self, args):
        self.root = os.path.realpath(args.root)
        self.defect = args.defect
        self.threads = args.threads
        self.queue = args.queue
        self.keep_alive_timeout = args.keep_alive_timeout
        self.uploads = os.path.realpath(args.uploads) if args.uploads else None
        self.closing = False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("root")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--queue", type=int, default=64)
    parser.add_argument("--keep-alive-timeout", type=float, default=5)
    parser.add_argument("--uploads")
    # Not a defect: a correct server on a machine too busy to send fast. Big
    # bodies go out at this many bytes a second, so that on Ctrl-C its own
    # time limit ends the downloads under way.
    parser.add_argument("--send-rate", type=int)
    parser.add_argument("--defect", choices=sorted(DEFECTS))
    args = parser.parse_args()
    global BARE_LF, SEND_RATE
    BARE_LF = args.defect == "bare-lf"
    SEND_RATE = args.send_rate
    if args.defect == "crash-at-start":
        sys.exit("error: cannot start (defect crash-at-start)")
    site = Site(args)

    if args.defect == "low-file-limit":
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    if site.defect == "ignore-ctrl-c":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"Listening on http://127.0.0.1:{args.port}/", flush=True)

    if site.defect == "single-threaded":
        serve_one_at_a_time(listener, site)
    elif site.defect in (
        "join-forever",
        "pool-of-two",
        "thread-per-client-capped",
        "one-recv",
        "spins",
    ):
        serve_thread_per_client(listener, site)
    elif site.defect == "worker-per-connection":
        serve_worker_per_connection(listener, site)
    else:
        serve_with_readiness_loop(listener, site)
    # Returning ends the process with status 0; daemon threads still busy end
    # with it.


# ---------------------------------------------------------------------------
# The correct way: a readiness loop for idle connections, a pool for requests.


class Conn:
    """A client connection, with the bytes it has sent that are not answered yet."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""
        self.deadline = 0.0  # set when the loop starts watching it
        self.answered = 0


class Busy:
    """How many connections are queued for a worker or being served."""

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()

    def add(self):
        with self.changed:
            self.count += 1

    def done(self):
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_idle(self, timeout):
        with self.changed:
            self.changed.wait_for(lambda: self.count == 0, timeout)


def serve_with_readiness_loop(listener, site):
    """Idle connections wait in the selector on this thread; a connection whose
    request head is complete goes to a worker, which answers every request it
    holds and gives the connection back."""
    selector = selectors.DefaultSelector()
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ, "listener")
    # Workers hand connections back through `returned`, and wake the loop by
    # writing a byte to `wake_up`: the selector belongs to this thread alone.
    woken, wake_up = socket.socketpair()
    woken.setblocking(False)
    wake_up.setblocking(False)
    selector.register(woken, selectors.EVENT_READ, "wake")
    returned = collections.deque()
    jobs = queue.Queue(maxsize=0 if site.defect == "unbounded-queue" else site.queue)
    busy = Busy()
    for _ in range(site.threads):
        worker = threading.Thread(
            target=work, args=(jobs, returned, wake_up, busy, site), daemon=True
        )
        worker.start()

    def watch(conn, timeout):
        conn.deadline = time.monotonic() + timeout
        selector.register(conn.sock, selectors.EVENT_READ, conn)

    def dispatch(conn):
        busy.add()
        try:
            jobs.put_nowait(conn)
        except queue.Full:
            busy.done()
            turn_away(conn.sock)

    try:
        while True:
            for key, _ in selector.select(timeout=TICK):
                if key.data == "listener":
                    accept_all(listener, site, watch)
                elif key.data == "wake":
                    drain(woken)
                    while returned:
                        conn = returned.popleft()
                        if has_head(conn.buffer):
                            dispatch(conn)
                        elif conn.buffer:
                            watch(conn, READ_TIMEOUT)
                        elif site.defect == "no-idle-timeout":
                            watch(conn, float("inf"))
                        else:
                            watch(conn, site.keep_alive_timeout)
                else:
                    conn = key.data
                    state = read_available(conn)
                    if state != "waiting":
                        selector.unregister(conn.sock)
                    if state == "closed":
                        conn.sock.close()
                        if site.defect == "blocks-on-hang-up":
                            time.sleep(0.002)
                    elif state == "complete":
                        dispatch(conn)
            now = time.monotonic()
            for key in list(selector.get_map().values()):
                if isinstance(key.data, Conn) and key.data.deadline <= now:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
    except KeyboardInterrupt:
        site.closing = True
        listener.close()
        for key in list(selector.get_map().values()):
            if isinstance(key.data, Conn):
                key.data.sock.close()
        if site.defect == "no-join":
            sys.exit(0)
        if site.defect == "wait-for-queue":
            busy.wait_idle(None)
        else:
            # The queued connections have had no response yet: close them, and
            # wait (for a while) only for the responses under way.
            close_queued(jobs, busy, lambda conn: conn.sock.close())
            busy.wait_idle(SHUTDOWN_TIMEOUT)
        if site.defect == "reraise":
            raise


def close_queued(jobs, busy, close):
    """Closes every connection still waiting for a worker: on Ctrl-C, they
    have had no response yet."""
    while True:
        try:
            close(jobs.get_nowait())
        except queue.Empty:
            return
        busy.done()


def accept_all(listener, site, watch):
    while True:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        except OSError as error:  # out of descriptors, say: try again later
            print(f"accept failed: {error}", file=sys.stderr, flush=True)
            return
        sock.setblocking(False)
        # These two keep a silent client for good. For low-file-limit that is
        # what shows its limit whatever the pace of the grader: a server that
        # closed silent clients after its read timeout would make room for
        # more, and take ten thousand that come slowly enough.
        patient = site.defect in ("blocks-on-hang-up", "low-file-limit")
        silent_for = float("inf") if patient else READ_TIMEOUT
        watch(Conn(sock), silent_for)


def read_available(conn):
    """Reads what the client has sent: "complete" once a request head is in,
    "waiting" for more, "closed" if the client left."""
    while not has_head(conn.buffer):
        try:
            chunk = conn.sock.recv(65536)
        except BlockingIOError:
            return "waiting"
        except OSError:
            return "closed"
        if not chunk:
            return "closed"
        if not conn.buffer:
            # A request has started: its head now has the read timeout.
            conn.deadline = time.monotonic() + READ_TIMEOUT
        conn.buffer += chunk
    return "complete"


def has_head(buffer):
    return b"\r\n\r\n" in buffer or len(buffer) > MAX_HEAD


def work(jobs, returned, wake_up, busy, site):
    while True:
        conn = jobs.get()
        try:
            keep = answer_buffered(conn, site)
        except OSError as error:  # timeouts, resets, broken pipes: this client only
            print(f"connection error: {error}", file=sys.stderr, flush=True)
            keep = False
        except Exception:
            if site.defect == "worker-dies":
                conn.sock.close()
                busy.done()
                raise  # the thread ends here, and the pool is one worker short
            print("a job failed; its connection is closed", file=sys.stderr, flush=True)
            keep = False
        if keep and not site.closing:
            conn.sock.setblocking(False)
            returned.append(conn)
            try:
                wake_up.send(b"!")
            except BlockingIOError:
                pass  # the loop has wake-ups waiting already
        else:
            conn.sock.close()
        busy.done()


def answer_buffered(conn, site):
    """Answers every whole request in the buffer; True if the connection stays open."""
    conn.sock.settimeout(WRITE_TIMEOUT)
    while has_head(conn.buffer):
        head, conn.buffer = split_head(conn.buffer)
        if site.defect == "drops-pipelined":
            conn.buffer = b""
        if not respond(conn.sock, head, site, conn.buffer):
            return False
        conn.answered += 1
        if site.defect == "closes-after-five" and conn.answered == 5:
            return False
    return True


def split_head(buffer):
    if b"\r\n\r\n" in buffer:
        head, rest = buffer.split(b"\r\n\r\n", 1)
        return head, rest
    return buffer, b""  # too long: answered as it is, then closed


def drain(sock):
    try:
        while sock.recv(4096):
            pass
    except BlockingIOError:
        pass


def turn_away(sock):
    """503 for a connection no worker can take, without waiting."""
    body = b"<h1>503 Service Unavailable</h1>\n"
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        f"Content-Type: {HTML}\r\nContent-Length: {len(body)}\r\n"
        "Retry-After: 1\r\nConnection: close\r\n\r\n"
    )
    try:
        sock.setblocking(False)
        sock.send(head.encode("latin-1") + body)  # small: fits the socket's buffer
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sock.close()


# ---------------------------------------------------------------------------
# The other ways, for the defects that need them. Each connection is served
# by one thread for its whole life, by `serve_connection`.


def serve_one_at_a_time(listener, site):
    while True:
        conn, _ = listener.accept()
        serve_connection(conn, site)


def serve_thread_per_client(listener, site):
    # Wake up now and then, so Ctrl-C is noticed even if the signal happens to
    # be delivered to a client's thread rather than the main one.
    listener.settimeout(0.5)
    if site.defect == "pool-of-two":
        limit, wait = threading.BoundedSemaphore(2), True
    elif site.defect == "thread-per-client-capped":
        limit, wait = threading.BoundedSemaphore(site.threads + site.queue), False
    else:
        limit, wait = None, False
    clients = []
    # Ctrl-C only sets a flag here, which the loop reads between accepts: a
    # KeyboardInterrupt raised at an arbitrary instruction of this loop was
    # seen, rarely, to escape the `try` around it (CPython 3.11), and a
    # server of the course's own must not fail a check by chance.
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            if limit and not limit.acquire(blocking=wait):
                turn_away(conn)
                continue
            thread = threading.Thread(
                target=serve_then_release, args=(conn, site, limit), daemon=True
            )
            thread.start()
            clients = [client for client in clients if client.is_alive()]
            clients.append(thread)
    except KeyboardInterrupt:  # SIGTERM, which raises it
        pass
    listener.close()
    if site.defect == "join-forever":
        deadline = None
    else:
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT
    for client in clients:
        client.join(None if deadline is None else max(0, deadline - time.monotonic()))


def serve_then_release(conn, site, limit):
    try:
        serve_connection(conn, site)
    finally:
        if limit:
            limit.release()


def serve_worker_per_connection(listener, site):
    listener.settimeout(0.5)
    jobs = queue.Queue(maxsize=site.queue)
    busy = Busy()

    def worker():
        while True:
            conn = jobs.get()
            try:
                serve_connection(conn, site)
            finally:
                busy.done()

    for _ in range(site.threads):
        threading.Thread(target=worker, daemon=True).start()
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            busy.add()
            try:
                jobs.put_nowait(conn)
            except queue.Full:
                busy.done()
                turn_away(conn)
    except KeyboardInterrupt:
        listener.close()
        close_queued(jobs, busy, lambda conn: conn.close())
        busy.wait_idle(SHUTDOWN_TIMEOUT)


def serve_connection(conn, site):
    """Answers the requests on one connection, one after the other."""
    with conn:
        try:
            buffer = b""
            first = True
            while True:
                if site.defect == "join-forever":
                    timeout = None
                elif first or buffer:
                    timeout = READ_TIMEOUT
                else:
                    timeout = site.keep_alive_timeout  # idle between requests
                head, buffer = read_head(conn, buffer, timeout, site.defect)
                if head is None:
                    return
                first = False
                if not respond(conn, head, site, buffer):
                    return
        except OSError as error:  # timeouts, resets, broken pipes: this client only
            print(f"connection error: {error}", file=sys.stderr, flush=True)


def read_head(conn, buffer, timeout, defect=None):
    """The next request head and the bytes after it; (None, b"") if the client
    left first. Raises socket.timeout if the client is too slow."""
    conn.settimeout(timeout)
    while not has_head(buffer):
        chunk = conn.recv(65536)
        if not chunk:
            if buffer and defect == "spins":
                while True:  # the client left half-way: ask again, at once, for ever
                    conn.recv(65536)
            return None, b""
        buffer += chunk
        if defect == "one-recv":
            return buffer, b""
        conn.settimeout(None if timeout is None else READ_TIMEOUT)
    return split_head(buffer)


# ---------------------------------------------------------------------------
# One request, one response.


def respond(conn, head, site, rest=b""):
    """Answers the request whose head is `head`; True if the connection stays open.
    `rest` is what came after the head: the start of an upload's body."""
    defect = site.defect
    line, _, header_block = head.partition(b"\r\n")
    # Latin-1 decodes any byte; strict UTF-8 raises on bytes that are not text.
    text = line.decode("utf-8") if defect == "worker-dies" else line.decode("latin-1")
    parts = text.split(" ")
    bad_headers = defect != "request-line-only" and malformed(parts[-1], header_block)
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or bad_headers:
        if defect == "no-400":
            return False
        try:
            send(conn, 400, "Bad Request", b"<h1>400 Bad Request</h1>\n", HTML)
        finally:
            # Exits even when the client hung up first and the write raised:
            # the defect is the exit, whatever became of the 400.
            if defect == "exit-on-bad-request":
                os._exit(1)
        return False
    method, target, version = parts
    keep = keeps_alive(version, header_block, defect)
    if method == "PUT" and site.uploads:
        return upload(conn, target, header_block, rest, site)
    if method != "GET":
        send(conn, 405, "Method Not Allowed", b"<h1>405 Method Not Allowed</h1>\n", HTML)
        return False
    path = find_file(site.root, target, defect)
    if path is None:
        not_found(conn, site.root, defect)
        return False
    if defect == "dies-on-second-download" and path.endswith("data.bin"):
        DOWNLOADS[path] += 1
        if DOWNLOADS[path] == 2:
            print("freeing the cached data.bin twice", flush=True)
            os._exit(3)
    body = read_file(path, defect)
    extension = os.path.splitext(path)[1].lower()
    content_type = TYPES.get(extension, "application/octet-stream")
    if defect == "html-for-everything":
        content_type = "text/html"
    length = len(body)
    if defect == "length-in-characters" and extension in TEXT:
        length = len(body.decode("utf-8"))
        send(conn, 200, "OK", body, content_type, length, keep)
        return keep
    fields = header_fields(header_block)
    stat = os.stat(path)
    tag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    extra = {"ETag": tag, "Accept-Ranges": "bytes"}
    if extension in TEXT:
        extra["Vary"] = "Accept-Encoding"
    if defect != "etag-never-304" and matches(fields.get("if-none-match"), tag):
        send(conn, 304, "Not Modified", b"", content_type, keep=keep, extra=extra)
        return keep
    wanted = byte_range(fields.get("range"), len(body), defect)
    if wanted == "unsatisfiable":
        extra["Content-Range"] = f"bytes */{len(body)}"
        send(conn, 416, "Range Not Satisfiable", b"", content_type, keep=keep, extra=extra)
        return keep
    if wanted is not None:
        first, last = wanted
        extra["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
        part = body[first:last] if defect == "range-end-exclusive" else body[first : last + 1]
        send(conn, 206, "Partial Content", part, content_type, keep=keep, extra=extra)
        return keep
    if extension in TEXT and takes_gzip(fields.get("accept-encoding"), defect):
        extra["Content-Encoding"] = "gzip"
        body = gzip.compress(body)
    send(conn, 200, "OK", body, content_type, keep=keep, extra=extra)
    return keep


def header_fields(header_block):
    """The header lines as a dict of lower-case names, repeated ones joined by commas."""
    fields = {}
    for line in header_block.decode("latin-1").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            name = name.strip().lower()
            fields[name] = f"{fields[name]}, {value.strip()}" if name in fields else value.strip()
    return fields


def matches(if_none_match, tag):
    """Whether If-None-Match names `tag`, compared weakly (W/ ignored), or is *."""
    if if_none_match is None:
        return False
    weak = lambda t: t.strip().removeprefix("W/")
    return any(t.strip() == "*" or weak(t) == weak(tag) for t in if_none_match.split(","))


def byte_range(header, length, defect):
    """(first, last) for one range of a file of `length` bytes, "unsatisfiable",
    or None to send the whole file (no Range, several, or not in bytes)."""
    if header is None or not header.startswith("bytes=") or "," in header:
        return None
    start, dash, end = header[len("bytes="):].strip().partition("-")
    if not dash or not (start + end).isdigit():
        return None
    if not start:  # -n: the last n bytes
        n = int(end)
        return (max(0, length - n), length - 1) if n > 0 else "unsatisfiable"
    first = int(start)
    if first >= length:
        return None if defect == "range-past-end-whole" else "unsatisfiable"
    last = min(int(end), length - 1) if end else length - 1
    return (first, last) if first <= last else None


def takes_gzip(accept_encoding, defect):
    """Whether Accept-Encoding allows gzip: named (or *) with a q-value above 0."""
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        if defect == "gzip-ignores-q":
            return True
        q = params.strip().lower()
        try:
            return not q.startswith("q=") or float(q[2:]) > 0
        except ValueError:
            return False
    return False


def upload(conn, target, header_block, rest, site):
    """PUT /uploads/NAME: the body, written whole, under a safe name. The
    connection is closed after it, so what is left of `rest` does not matter."""
    defect = site.defect
    path = unquote(target.split("?", 1)[0])
    if not path.startswith("/uploads/"):
        send(conn, 405, "Method Not Allowed", b"<h1>405 Method Not Allowed</h1>\n", HTML)
        return False
    name = path[len("/uploads/"):]
    if defect == "upload-escapes":
        full = site.uploads + "/" + name  # the report's mistake, now for writing
    elif not name or name.startswith(".") or any(c in name for c in "/\\:\0"):
        send(conn, 400, "Bad Request", b"<h1>400 Bad Request</h1>\n", HTML)
        return False
    else:
        full = os.path.join(site.uploads, name)
    length = header_fields(header_block).get("content-length")
    if length is None:
        send(conn, 411, "Length Required", b"<h1>411 Length Required</h1>\n", HTML)
        return False
    length = int(length)
    existed = os.path.exists(full)
    # Written to a temporary name beside it and renamed when whole, so that a
    # cut connection leaves nothing; the defect writes to the name itself.
    temporary = full if defect == "upload-writes-as-it-comes" else os.path.join(
        os.path.dirname(full), f".upload-{threading.get_ident()}-{time.monotonic_ns()}"
    )
    try:
        with open(temporary, "wb") as file:
            got = rest[:length]
            file.write(got)
            received = len(got)
            while received < length:
                chunk = conn.recv(min(65536, length - received))
                if not chunk:
                    raise ConnectionError("the client left half-way through an upload")
                file.write(chunk)
                received += len(chunk)
    except (OSError, ConnectionError):
        if temporary != full:
            try:
                os.remove(temporary)
            except OSError:
                pass
        return False
    if temporary != full:
        os.replace(temporary, full)
    if existed:
        send(conn, 204, "No Content", b"", HTML)
    else:
        created = "200 OK" if defect == "upload-200-for-new" else "201 Created"
        status, reason = created.split(" ", 1)
        send(conn, int(status), reason, b"", HTML, extra={"Location": path})
    return False


def malformed(version, header_block):
    """Whether the header lines break RFC 9112: a line that is not `Name: value`
    (a space before the colon included), not exactly one Host in HTTP/1.1, or
    Content-Lengths that are not one number."""
    fields = {}
    for line in header_block.decode("latin-1").split("\r\n"):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or any(c.isspace() for c in name):
            return True
        fields.setdefault(name.lower(), []).append(value.strip())
    if version == "HTTP/1.1" and len(fields.get("host", [])) != 1:
        return True
    lengths = set(fields.get("content-length", []))
    return len(lengths) > 1 or any(not (n.isascii() and n.isdigit()) for n in lengths)


def keeps_alive(version, header_block, defect):
    """HTTP/1.1 stays open unless the client says close; HTTP/1.0 closes unless
    it says keep-alive."""
    options = set()
    for line in header_block.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "connection":
            options.update(part.strip().lower() for part in value.split(","))
    if "close" in options and defect != "ignores-connection-close":
        return False
    if version == "HTTP/1.1" or defect == "http10-kept-open":
        return True
    return "keep-alive" in options


def find_file(root, target, defect):
    """The file a target names under root, or None."""
    path = unquote(target.split("?", 1)[0])
    if defect == "lower-case-paths":
        path = path.lower()
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
    send(conn, 404, "Not Found", page, HTML)


def send(conn, status, reason, body, content_type, length=None, keep=False, extra=None):
    # A 204 or 304 has no body, and says no length (a 304's would be the file's).
    length_line = (
        "" if status in (204, 304) else f"Content-Length: {len(body) if length is None else length}\r\n"
    )
    fields = "".join(f"{name}: {value}\r\n" for name, value in (extra or {}).items())
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"{length_line}{fields}"
        f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n"
    )
    if BARE_LF:
        head = head.replace("\r\n", "\n")
    data = head.encode("latin-1") + body
    if SEND_RATE is None or len(data) < SEND_RATE:
        conn.sendall(data)
        return
    piece = max(1, SEND_RATE // 10)
    for start in range(0, len(data), piece):
        conn.sendall(data[start : start + piece])
        time.sleep(0.1)



if __name__ == "__main__":
    main()
