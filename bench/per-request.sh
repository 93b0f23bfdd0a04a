#!/usr/bin/env bash
# What one kept-alive request costs each server, in system calls, futex calls
# (a thread waking another, or waiting for one), context switches and CPU time,
# counted with `perf stat` on the server while wrk loads it. Pinned as in
# bench/run.py: the server on core 0, wrk (one thread, 50 connections) on
# core 1, nginx with one worker. CPU time per request does not depend on what
# else the machine is doing, as requests a second do.
#
#     bash bench/per-request.sh            # writes bench/results/per-request.txt
#     ROUNDS=5 SERVERS="async nginx" OUT=/tmp/step.txt bash bench/per-request.sh
#
# ROUNDS (3), SERVERS (all three, measured in turn in every round, so that
# a change in the machine's load falls on each alike) and OUT choose what a
# run measures and where its table goes. A stage may name another build,
# `async=/tmp/before`, to measure a change beside what it changed, and nginx:
#
#     SERVERS="nginx async=/tmp/before async" OUT=/tmp/step.txt bash bench/per-request.sh
#
# (a row for such a build is labelled with its file name: "async (before)").
#
# Needs perf (Debian: linux-perf), wrk, nginx, taskset, and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/multithreaded-server
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import sys
page = "<!doctype html>\n<html><head><title>bench</title></head><body>\n<p>" + "x" * 420 + "</p>\n</body></html>\n"
open(f"{sys.argv[1]}/small.html", "w").write(page)
PY
chmod 644 "$work/small.html"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $work/b; proxy_temp_path $work/p; fastcgi_temp_path $work/f;
    uwsgi_temp_path $work/u; scgi_temp_path $work/s;
    types { text/html html; }
    server { listen 127.0.0.1:PORT; root $work; }
}
NGINX

# measure NAME PORT COMMAND...: one line of the table.
measure() {
  local name=$1 port=$2
  shift 2
  taskset -c 0 "$@" >/dev/null 2>&1 &
  local pid=$!
  local tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    # A server that could not take the port has ended: say so, not hang.
    if ! kill -0 "$pid" 2>/dev/null || ((++tries > 200)); then
      echo "$name did not start listening on $port" >&2
      return 1
    fi
    sleep 0.05
  done
  # nginx serves from its worker, a child of the process started.
  local target
  target=$(pgrep -P "$pid" | head -n 1 || true)
  target=${target:-$pid}
  local url=http://127.0.0.1:$port/small.html
  taskset -c 1 wrk -t1 -c50 -d1s "$url" >/dev/null
  perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_futex,context-switches,task-clock \
    -p "$target" -o "$work/perf.txt" -- sleep 4 &
  local perf=$!
  local out
  out=$(taskset -c 1 wrk -t1 -c50 -d4s "$url")
  wait "$perf"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  python3 - "$name" "$(echo "$out" | awk '/requests in/ {print $1}')" "$work/perf.txt" <<'PY'
import sys
name, requests, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
counts = {}
for line in open(path):
    fields = line.strip().split(",")
    if len(fields) > 3 and not line.startswith("#"):
        try:
            counts[fields[2]] = float(fields[0])
        except ValueError:
            pass
per = lambda event: counts.get(event, 0.0) / requests
print(f"| {name} | {requests / 4:,.0f} | {per('raw_syscalls:sys_enter'):.1f} | {per('syscalls:sys_enter_futex'):.2f} "
      f"| {per('context-switches'):.2f} | {per('task-clock') * 1000:.1f} µs |")
PY
}

ROUNDS=${ROUNDS:-3}
SERVERS=${SERVERS:-keep-alive async nginx}
OUT=${OUT:-bench/results/per-request.txt}
sed "s/PORT/38303/" "$work/nginx.conf" >"$work/nginx-38303.conf"
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs (load average $(cut -d' ' -f1-3 /proc/loadavg)), pinned, $ROUNDS rounds; per kept-alive request for a 500-byte page."
  echo
  echo "| server | req/s | system calls | futex calls | context switches | CPU time |"
  echo "|---|---:|---:|---:|---:|---:|"
  for _ in $(seq "$ROUNDS"); do
    for server in $SERVERS; do
      stage=${server%%=*}
      bin=$BIN label=$stage
      if [[ $server == *=* ]]; then
        bin=${server#*=} label="$stage ($(basename "$bin"))"
      fi
      case $stage in
        keep-alive | async) measure "$label" 38302 "$bin" --stage "$stage" --port 38302 --root "$work" --quiet ;;
        nginx) measure nginx 38303 nginx -c "$work/nginx-38303.conf" -e "$work/nginx-error.log" ;;
        *) echo "unknown server $server" >&2; exit 2 ;;
      esac
    done
  done
} | tee "$OUT"
