"""Sends SIGTERM to its parent's process group: the grader's, which outside
a sandbox is the class grader's and the instructor's shell's. Then serves.

Contained: its parent is the grader inside its own sandbox, in a PID
namespace of its own, so nothing outside can be reached; the grader stops.
Reported: the row says the grader was stopped by a signal from inside the
sandbox; the other submissions are graded as ever.
"""
import os
import signal
import sys

def serve():
    """Serves the site as Python's http.server does: what the class grades."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=sys.argv[2])
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()


try:
    os.killpg(os.getpgid(os.getppid()), signal.SIGTERM)
    print("group-signaller: sent SIGTERM to its parent's group", flush=True)
except OSError as error:
    print(f"group-signaller: {error}", flush=True)
serve()
