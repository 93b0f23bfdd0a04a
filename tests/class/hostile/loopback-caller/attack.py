"""Connects to a listener on the machine's loopback (its port in
attack.json): a database, another student's server, the grader's own ports.
Then serves, trying again on every request it answers.

Contained: the sandbox has a loopback of its own; nothing outside it can be
reached. The test's listener counts the connections it got: none.
"""
import json
import socket
import sys

def serve():
    """Serves the site as Python's http.server does: what the class grades."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=sys.argv[2])
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()


port = json.load(open("attack.json"))["port"]
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    print(f"loopback-caller: reached 127.0.0.1:{port}", flush=True)
except OSError as error:
    print(f"loopback-caller: 127.0.0.1:{port}: {error}", flush=True)
serve()
