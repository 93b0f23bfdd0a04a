"""Reads another submission: the victim's secret.txt, by its path on the
machine (in attack.json, as a submission could guess it), beside its own
copy, and in every copy grade-class made. If it reads anything, it prints it
and exits, so that the secret would reach the gradebook with its output.

Contained: the submissions, the copies and the output are hidden in the
sandbox. The test checks that the secret is nowhere in the output.
"""
import glob
import json
import os
import sys

def serve():
    """Serves the site as Python's http.server does: what the class grades."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=sys.argv[2])
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()


config = json.load(open("attack.json"))
paths = [config["secret"], "../victim/secret.txt"]
paths += glob.glob("/tmp/multithreaded-server-class-*/*/secret.txt")
paths += glob.glob(os.path.join(os.path.dirname(config["secret"]), "..", "*", "secret.txt"))
for path in paths:
    try:
        print(f"reader: read {path}: {open(path).read()}", flush=True)
        sys.exit(3)
    except OSError as error:
        print(f"reader: {path}: {error}", flush=True)
serve()
