#!/usr/bin/env bash
# Transcripts for chapters/keeping-it-safe.md, from real runs:
#
#     bash scripts/transcripts/keeping-it-safe.sh
#
# Writes chapters/transcripts/keeping-it-safe/*.txt. Needs curl, nc (Debian:
# netcat-openbsd) and python3. Takes about half a minute, most of it the
# adversarial test suites.
#
# Each server listens on a free port, but the chapter tells you to use
# `cargo run`, which listens on 3000, so the port is shown as 3000. Nothing else
# is changed: dates, timings and byte counts are those of the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=chapters/transcripts/keeping-it-safe
mkdir -p "$OUT"
cargo build --quiet
BIN=target/debug/multithreaded-server

SERVER_PID=
PORT=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -f www/leak.txt
}
trap cleanup EXIT

# start_server ARGS...: serves www/ with ARGS on a free port; sets PORT and LOG.
start_server() {
  LOG=$(mktemp)
  NO_COLOR=1 "$BIN" --port 0 "$@" >"$LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do
    PORT=$(sed -n 's|^Listening on http://[^/]*:\([0-9]*\)/.*|\1|p' "$LOG")
    [[ -n "$PORT" ]] && return 0
    sleep 0.05
  done
  echo "the server did not start:" >&2
  cat "$LOG" >&2
  return 1
}

stop_server() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

public() {
  if [[ -n "$PORT" ]]; then sed -E "s/\b${PORT}\b/3000/g"; else cat; fi
}

# shown COMMAND: the command after a `$ ` prompt, then what it prints.
shown() {
  printf '$ %s\n' "$1" | public
  bash -c "$1" 2>&1 | public || true
}

# The hole: a path from the request, used as a file name as it stands. Run from
# www/, as a server serving www/ would be.
shown "(cd www && python3 -c 'target = \"/../Cargo.toml\"; print(open(target[1:]).readline(), end=\"\")')" \
  >"$OUT/the-hole.txt"

# The chapter comes after stage 4, and starts that stage: `cargo run -- --stage 4`.
start_server --stage 4
{
  shown "curl -s --path-as-is -i http://127.0.0.1:$PORT/../Cargo.toml"
} >"$OUT/traversal-curl.txt"
{
  shown "for target in /../Cargo.toml /%2e%2e/Cargo.toml /..%2fCargo.toml /%252e%252e/Cargo.toml \\
    /..%5cCargo.toml /%c0%ae%c0%ae/Cargo.toml /images/../../Cargo.toml //../Cargo.toml \\
    /index.html%00.png; do
  curl --path-as-is -s -o /dev/null -w \"%{http_code} \$target\\n\" \"http://127.0.0.1:$PORT\$target\"
done"
  shown "curl -s -o /dev/null -w '%{http_code}\\n' --request-target http://localhost/../Cargo.toml http://127.0.0.1:$PORT/"
} >"$OUT/traversal-many.txt"
{
  shown "ln -s ../Cargo.toml www/leak.txt"
  shown "curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:$PORT/leak.txt"
  shown "rm www/leak.txt"
} >"$OUT/traversal-symlink.txt"
sleep 0.2
public <"$LOG" >"$OUT/traversal-log.txt"
stop_server

start_server --stage 4
{
  shown "python3 -c 'print(\"GET /\" + \"a\" * 9000 + \" HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\", end=\"\")' | nc 127.0.0.1 $PORT | head -n 1"
  shown "python3 -c 'print(\"GET / HTTP/1.1\\r\\nHost: x\\r\\n\" + \"X-Many: 1\\r\\n\" * 200 + \"\\r\\n\", end=\"\")' | nc 127.0.0.1 $PORT | head -n 1"
  shown "printf 'GET / HTTP/1.1\\nHost: x\\n\\n' | nc 127.0.0.1 $PORT | head -n 1"
  shown "printf 'GET / HTTP/1.1\\r\\nHost : x\\r\\n\\r\\n' | nc 127.0.0.1 $PORT | head -n 1"
  shown "printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n' | nc 127.0.0.1 $PORT | head -n 1"
  shown "printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n' | nc 127.0.0.1 $PORT | head -n 1"
  shown "printf 'GET / HTTP/2.0\\r\\nHost: x\\r\\n\\r\\n' | nc 127.0.0.1 $PORT | head -n 1"
} >"$OUT/limits.txt"
stop_server

start_server --stage 4 --read-timeout 3s
shown "python3 scripts/dribble.py http://127.0.0.1:$PORT/" >"$OUT/dribble.txt"
sleep 0.2
public <"$LOG" >"$OUT/dribble-log.txt"
stop_server

# The suites: built first, so that only their own output is shown.
cargo test --quiet --no-run --test hardening 2>/dev/null
PORT=
shown "cargo test --test hardening" |
  grep -v -E '^ *(Finished|Compiling)|^$' >"$OUT/suites.txt"
