# Shared by the scripts that make the book's transcripts and pictures: start the
# real server on a free port, run commands the way a reader would, and write
# what they print. Source it; do not run it.
#
# Needs: curl, nc (Debian: `apt-get install -y netcat-openbsd`), script(1) from
# util-linux, ss from iproute2, python3, and chromium for the browser parts.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
BIN="$REPO/target/debug/multithreaded-server"
# Up to date in a moment if it already is; the transcripts come from this build.
cargo build --quiet

# The one value we replace. Every server here listens on a free port (--port 0),
# so a run never fails because something else holds 3000; but the book tells you
# to use `cargo run`, which listens on 3000, so the port the script got is shown
# as 3000, wherever it appears as a whole number. (Free ports are 32768 and up
# on Linux; no other number in these transcripts is that large and that short.)
# Where the port sits in a column (as in `ss`), spaces keep the columns lined up.
# Nothing else in a transcript is changed: dates, client ports, timings and byte
# counts are those of the run that made it.
public() {
  local pad
  pad=$(printf '%*s' $((${#PORT} - 4)) '')
  sed -E -e "s/\b${PORT}(  +)/3000${pad}\1/g" -e "s/\b${PORT}\b/3000/g"
}

SERVERS=()
cleanup_servers() {
  local pid
  for pid in "${SERVERS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup_servers EXIT

# start_server ARGS...: starts the server with ARGS on a free port, waits for its
# ready line, and sets PORT, SERVER_PID and SERVER_LOG (its stdout and stderr),
# and STATUS_URL if ARGS has --status.
start_server() {
  SERVER_ARGS=("$@")
  SERVER_LOG=$(mktemp)
  # A background job of a script starts with Ctrl-C (SIGINT) ignored; the
  # server you start in a terminal does not, so give it back its default.
  env --default-signal=INT "$BIN" --port 0 "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  SERVERS+=("$SERVER_PID")
  local tries
  for tries in $(seq 400); do
    if grep -q '^Listening on' "$SERVER_LOG"; then
      break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      break
    fi
    sleep 0.05
  done
  PORT=$(sed -n 's|^Listening on http://[^/]*:\([0-9]*\)/.*|\1|p' "$SERVER_LOG" | head -n 1)
  # With --status, the live view's address too (empty without).
  STATUS_URL=$(sed -n 's|^Status view on \(http://[^/]*\)/_status$|\1|p' "$SERVER_LOG")
  if [[ -z "$PORT" ]]; then
    echo "the server did not start:" >&2
    cat "$SERVER_LOG" >&2
    return 1
  fi
}

# stop_server [SIGNAL]: signals the server (TERM by default) and waits for it.
stop_server() {
  kill "-${1:-TERM}" "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# server_log: what the server printed so far, as shown in the book.
server_log() {
  public <"$SERVER_LOG"
}

# browser_visit: loads the start page in headless Chromium, as you would in a
# browser, and waits until the server has logged the browser's last request,
# the icon. Chromium run headless sometimes quits before it asks for the icon
# (about one visit in ten); then the server is started again, with the same
# arguments, and the visit made again, so that the log shows one whole visit.
browser_visit() {
  local tries tick
  for tries in 1 2 3 4 5; do
    chromium_headless --dump-dom "http://127.0.0.1:$PORT/" >/dev/null
    for tick in $(seq 60); do
      if grep -qF 'favicon.svg' "$SERVER_LOG"; then
        return 0
      fi
      sleep 0.05
    done
    stop_server
    start_server "${SERVER_ARGS[@]}"
  done
  echo "the browser never asked for the icon" >&2
  return 1
}

# wait_for_log TEXT: waits (up to 20 s) until the server's log contains TEXT.
wait_for_log() {
  local tries
  for tries in $(seq 400); do
    if grep -qF -- "$1" "$SERVER_LOG"; then
      return 0
    fi
    sleep 0.05
  done
  echo "the log never said: $1" >&2
  cat "$SERVER_LOG" >&2
  return 1
}

# shown COMMAND: prints the command after a `$ ` prompt, then runs it in a
# terminal (a pseudo-terminal made by script(1)) so that programs print what they
# print for you, and not what they print into a pipe. A line that was redrawn
# (a progress meter returns to its start with \r) is kept as it was last drawn,
# as your terminal would show it; bold and colour codes are left out of the text.
# A command that fails is shown failing.
shown() {
  printf '$ %s\n' "$*" | public
  script --quiet --return --command "$*" /dev/null </dev/null | as_drawn | public || true
}

# shown_in_background COMMAND: prints the command with a trailing `&`, as you
# would type it to leave it running, and runs it in the background (its output
# is not shown). Sets BACKGROUND_PID.
shown_in_background() {
  printf '$ %s &\n' "$*" | public
  bash -c "$*" >/dev/null 2>&1 &
  BACKGROUND_PID=$!
}

# as_drawn: each line as a terminal leaves it, after its last carriage return,
# without the escape codes that made parts of it bold or coloured (and the
# `ESC ( B` that some programs, cargo's test runner among them, send with them).
as_drawn() {
  awk '{ sub(/\r+$/, ""); n = split($0, drawn, "\r"); print drawn[n] }' |
    sed -E -e 's/\x1b\[[0-9;]*m//g' -e 's/\x1b\(B//g'
}

# chromium_headless ARGS...: Debian's chromium, headless, with a fresh profile and
# nothing that talks to the network on its own. The virtual time budget lets a
# page finish loading (its icon comes last) before --dump-dom ends the browser.
chromium_headless() {
  local profile
  profile=$(mktemp -d)
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --virtual-time-budget=3000 --user-data-dir="$profile" "$@" 2>/dev/null
  rm -rf "$profile"
}

# start_silent_client: connects with nc and sends nothing, as you would by
# typing `nc 127.0.0.1 3000` and nothing else; returns once the connection is
# made. Sets SILENT_PID; kill it to hang up.
start_silent_client() {
  sleep 60 | nc 127.0.0.1 "$PORT" >/dev/null &
  SILENT_PID=$!
  until ss -tn "sport = :$PORT" | grep -q ESTAB; do sleep 0.05; done
}

# wait_for_status CONDITION [WHAT]: asks the live view (--status) for its JSON
# until CONDITION, a Python expression, is true (for up to 20 s). In it,
# doing("worker-") lists what the threads of that name are doing, gauge(NAME)
# and counter(NAME) read the view's numbers, and s is the whole JSON.
wait_for_status() {
  python3 - "$STATUS_URL/_status?json" "$1" "${2:-$1}" <<'PY'
import json, sys, time, urllib.request
url, condition, what = sys.argv[1:]
deadline = time.monotonic() + 20
while True:
    s = json.load(urllib.request.urlopen(url, timeout=5))
    names = {
        "s": s,
        "doing": lambda prefix="": [t["doing"] for t in s["threads"] if t["name"].startswith(prefix)],
        "gauge": lambda name: next((g["value"] for g in s["gauges"] if g["name"] == name), None),
        "counter": lambda name: s["counters"][name],
    }
    if eval(condition, names):
        sys.exit(0)
    if time.monotonic() > deadline:
        sys.exit(f"the status view never showed {what}; it showed {json.dumps(s)}")
    time.sleep(0.05)
PY
}

# press_ctrl_c: sends the server SIGINT, as Ctrl-C in its terminal does, waits
# for it to exit, and sets EXIT_STATUS as the shell would report it.
press_ctrl_c() {
  kill -INT "$SERVER_PID"
  EXIT_STATUS=0
  wait "$SERVER_PID" || EXIT_STATUS=$?
}

# shown_exit_status: what `echo $?` then prints in the server's terminal.
shown_exit_status() {
  printf '$ echo $?\n%s\n' "$EXIT_STATUS"
}

# ctrl_c_during_download STAGE: serves a folder holding one 60 MB file (made as
# the chapters tell you to make /tmp/site), starts scripts/slow-download.py on
# it, presses Ctrl-C a second in, and writes ctrl-c-download.txt (the client),
# ctrl-c-log.txt (the server) and ctrl-c-status.txt (its exit status).
ctrl_c_during_download() {
  local site download
  site=$(mktemp -d)
  head -c 60000000 /dev/urandom >"$site/big.bin"
  start_server --stage "$1" --root "$site"
  shown "python3 scripts/slow-download.py http://127.0.0.1:$PORT/big.bin" >"$(out ctrl-c-download.txt)" &
  download=$!
  until ss -tn "sport = :$PORT" | grep -q ESTAB; do sleep 0.05; done
  sleep 1 # a second into the download
  press_ctrl_c
  wait "$download"
  server_log >"$(out ctrl-c-log.txt)"
  shown_exit_status >"$(out ctrl-c-status.txt)"
  rm -rf "$site"
}

# out NAME: the file a chapter's transcript NAME is written to, under
# chapters/transcripts/<chapter>/, where <chapter> is the name of the script
# being run (scripts/transcripts/<chapter>.sh).
out() {
  local chapter
  chapter=$(basename "${BASH_SOURCE[-1]}" .sh)
  mkdir -p "chapters/transcripts/$chapter"
  echo "chapters/transcripts/$chapter/$1"
}
