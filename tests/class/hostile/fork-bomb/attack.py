"""A fork bomb: a helper in a session of its own (out of the server's process
group, so that stopping the server does not stop it) forks sleeping children
until fork fails, or 3,000 of them (a bound, should no limit stop it first).
Then the server serves, starved of threads by its own bomb.

Contained: the sandbox's process limit stops the bomb, and the sandbox's end
ends the processes left. Reported: the gradebook says the submission
reached its process limit, and left processes running.
"""
import json
import os
import sys
import time

def serve():
    """Serves the site as Python's http.server does: what the class grades."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=sys.argv[2])
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()


def bomb():
    made = 0
    try:
        while made < 3000:
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "300"])
            made += 1
    except OSError as error:
        print(f"fork-bomb: forked {made}, then {error}", flush=True)
        return
    print(f"fork-bomb: forked {made}, and no limit stopped it", flush=True)


if os.fork() == 0:
    os.setsid()
    bomb()
    time.sleep(300)
    os._exit(0)
time.sleep(2)
serve()
