"""Writes a file into the grading user's home (found in attack.json, as a
submission could guess it: /root, /home/NAME) and into the class's folder
beside the submissions, then serves.

Contained: the homes are an empty, throw-away folder in the sandbox, and
the class's folder is hidden; the files written there vanish with it.
The test looks for them on the machine afterwards.
"""
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
for folder in [config["home"], os.path.expanduser("~"), config["class"]]:
    target = os.path.join(folder, "hostile-was-here")
    try:
        with open(target, "w") as f:
            f.write("written from inside a submission\n")
        print(f"home-writer: wrote {target}", flush=True)
    except OSError as error:
        print(f"home-writer: {target}: {error}", flush=True)
serve()
