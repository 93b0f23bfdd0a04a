"""A memory hog: takes memory 16 MiB at a time, every page written, until
the allocation fails, or 4 GiB (a bound, should no limit stop it first);
holds it for two seconds, lets it go, and serves.

Contained: the sandbox's memory limit (512 MiB a process in this class)
makes the allocation fail. Reported: the gradebook says how much it held.
"""
import sys
import time

def serve():
    """Serves the site as Python's http.server does: what the class grades."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=sys.argv[2])
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()


held = []
try:
    while len(held) < 256:
        held.append(b"\x01" * (16 << 20))
    print("memory-hog: took 4 GiB, and no limit stopped it", flush=True)
except MemoryError:
    print(f"memory-hog: took {16 * len(held)} MiB, then MemoryError", flush=True)
time.sleep(2)
held.clear()
serve()
