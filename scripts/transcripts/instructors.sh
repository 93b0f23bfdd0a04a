#!/usr/bin/env bash
# Transcripts for chapters/instructors.md ("For instructors: grading"), from
# real runs of `multithreaded-server grade`. Writes
# chapters/transcripts/instructors/*.txt.
#
# Each transcript shows the command as an instructor types it from the top
# folder of the repository, after a `$ ` prompt, then what it printed (stderr
# and stdout, without colour). The ports, folders and timings are those of the
# run that made it, but for the one port in running.txt (see there).
#
# Needs python3 (the Python submission is the course's test server,
# tests/broken/server.py). Takes about a minute.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
cargo build --quiet --workspace --bins
OUT="$REPO/chapters/transcripts/instructors"
mkdir -p "$OUT"
# The grader as an installed command, as the chapter shows it.
export PATH="$REPO/target/debug:$PATH"
export NO_COLOR=1

# shown COMMAND: the command after a prompt, then what it prints. A command
# that fails is shown failing, followed by its exit status.
shown() {
  printf '$ %s\n' "$*"
  local status=0
  bash -c "$*" 2>&1 || status=$?
  if [[ $status -ne 0 ]]; then
    printf '$ echo $?\n%s\n' "$status"
  fi
}

shown "multithreaded-server grade --list" >"$OUT/list.txt"

# A Python submission: the course's test server, a working server for every
# stage until a --defect breaks it.
SERVER_PY="python3 tests/broken/server.py {port} {root}"
shown "multithreaded-server grade --stage 2 -- $SERVER_PY" >"$OUT/python-pass.txt"
# The same server with one mistake switched on: Content-Length in characters.
shown "multithreaded-server grade --stage 2 -- $SERVER_PY --defect length-in-characters" \
  >"$OUT/python-fail.txt"
shown "multithreaded-server grade --stage 1 --json -- $SERVER_PY --defect length-in-characters" \
  >"$OUT/python-json.txt"
# Stage 6 without the placeholders the pool checks need: skipped, saying why.
shown "multithreaded-server grade --stage 6 -- $SERVER_PY" >"$OUT/placeholders.txt"
# With them, and a server whose idle connections each hold a worker.
shown "multithreaded-server grade --stage 6 -- $SERVER_PY --threads {threads} --queue {queue} --keep-alive-timeout {keep_alive_timeout} --defect worker-per-connection" \
  >"$OUT/python-stage-6.txt"

# Extensions: Python's own file server has no ETag, ranges or gzip.
shown "multithreaded-server grade --stage 2 --with validators,ranges,compression -- python3 -m http.server --bind 127.0.0.1 --directory {root} {port}" \
  >"$OUT/extensions.txt"

# Scores for instructors' tools: Gradescope's results.json with points from a
# file, and JUnit XML, for a server with one fault (text/html for everything).
points=$(mktemp --suffix=.toml)
printf 'no-traversal = 3\nsplit-request = 2\n' >"$points"
shown "cat $points" | sed "s|$points|points.toml|g" >"$OUT/points.txt"
shown "multithreaded-server grade --stage 1 --format gradescope --points $points -- $SERVER_PY --defect html-for-everything" |
  sed "s|$points|points.toml|g" >"$OUT/gradescope.txt"
rm -f "$points"
shown "multithreaded-server grade --stage 1 --format junit -- $SERVER_PY --defect html-for-everything" \
  >"$OUT/junit.txt"

# A class of three, all the Python server: one as it is, two with a fault,
# graded by grade-class, each in its sandbox; then the CSV it wrote.
class=$(mktemp -d)
grades=$(mktemp -d)
mkdir -p "$class/one" "$class/two" "$class/three"
cp tests/broken/server.py "$class/one/server.py"
for pair in two:binary-as-text three:single-threaded; do
  student=$class/${pair%%:*}
  cp tests/broken/server.py "$student/broken.py"
  printf 'import os, runpy, sys\nsys.argv += ["--defect", "%s"]\nrunpy.run_path(os.path.join(os.path.dirname(__file__), "broken.py"), run_name="__main__")\n' \
    "${pair#*:}" >"$student/server.py"
done
shown "multithreaded-server grade-class $class --stage 2 --out $grades" |
  sed "s|$class|submissions|g; s|$grades|grades|g" >"$OUT/class.txt"
shown "cat $grades/grades.csv" | sed "s|$grades|grades|g" >>"$OUT/class.txt"
rm -rf "$class" "$grades"

# A Rust submission: exercise 4 as it is handed out, before its TODOs are done.
shown "multithreaded-server grade --stage 4 -- cargo run -q -p ex04-daemon-join -- --port {port} --root {root}" \
  >"$OUT/rust-exercise.txt"

# A server that is already running, serving an empty folder, with its pool's
# settings given to the grader. The folder is the one the chapter makes,
# /tmp/grade-site; the grader leaves it empty, and it is removed after. The
# chapter starts the server with `cargo run`, on port 3000; this one listens
# on a free port, so that a run never fails because something holds 3000, and
# that port is shown as 3000, as in the other chapters' transcripts
# (scripts/lib/serve.sh).
site=/tmp/grade-site
mkdir -p "$site"
if [[ -n "$(ls -A "$site")" ]]; then
  echo "$site is not empty; the grader needs an empty folder there" >&2
  exit 1
fi
trap 'rmdir "$site" 2>/dev/null || true; kill "${server:-}" 2>/dev/null || true' EXIT
log=$(mktemp)
settings="--threads 4 --queue 16 --keep-alive-timeout 2"
# shellcheck disable=SC2086 # $settings is several arguments
multithreaded-server --stage 6 --port 0 --root "$site" --quiet $settings >"$log" &
server=$!
until grep -q '^Listening on' "$log"; do sleep 0.05; done
port=$(sed -n 's|^Listening on http://[^/]*:\([0-9]*\)/.*|\1|p' "$log")
shown "multithreaded-server grade --stage 6 --addr 127.0.0.1:$port --root $site $settings" |
  sed -E "s/\b${port}\b/3000/g" >"$OUT/running.txt"
kill "$server"
rm -f "$log"
