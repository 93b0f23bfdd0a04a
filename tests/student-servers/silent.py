"""A server that accepts connections and never answers: the first evening of
a student's project, with the reading written and the answering not yet.

    python3 tests/student-servers/silent.py PORT ROOT

Each connection gets a thread that reads (and prints) what the client sends,
until the client hangs up. Nothing is ever written back, and no connection is
closed by the server.

What it proves: a check passes only on evidence that the server did what the
check asks. A check that looks only for something bad (a file from outside
the root in the answer, a crash) finds nothing bad here, because there is
nothing at all; that is no reason to pass it.

Expected: passes `connects`, and nothing else.
"""

import os
import socket
import sys
import threading


def handle(conn, addr):
    with conn:
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                print(addr, data[:80], flush=True)
                # TODO: parse the request and send the file back
        except OSError as error:
            print(addr, error, flush=True)


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python3 silent.py PORT ROOT")
    port, root = int(sys.argv[1]), sys.argv[2]
    if not os.path.isdir(root):
        sys.exit(f"error: no such folder: {root}")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(128)
    print(f"listening on port {port}, serving {root}", flush=True)
    while True:
        conn, addr = server.accept()
        threading.Thread(target=handle, args=(conn, addr), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
