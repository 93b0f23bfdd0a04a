#!/usr/bin/env python3
"""Measures every stage side by side with nginx and Python's http.server.

    python3 bench/run.py            # the full run: 3 interleaved rounds, pinned and unpinned, ~50 minutes
    python3 bench/run.py --quick    # one short round, ~6 minutes, for a first look
    python3 bench/run.py --modes pinned --workloads keep-alive --servers keep-alive,async,nginx

    # how many workers? the thread-pool stage with 1 to 64, on two workloads
    python3 bench/run.py --servers thread-pool@1,thread-pool@4,thread-pool@16,thread-pool@64 \
        --workloads close,keep-alive --out bench/results/threads --charts chapters/images/bench/threads

It builds the server in release mode, writes a fixture site, installs wrk and
nginx from Debian if they are missing, and runs each workload against each
server in interleaved rounds (the order of servers is shuffled every round), so
that a burst of noise on a shared machine hits every server alike. It prints a
table of medians and ratios to nginx, writes every measurement to
bench/results/, and draws the charts the book uses into chapters/images/bench/.

Each measurement is made twice, in two modes, interleaved in every round:

- pinned (the published table): the load generator (wrk, one thread) runs on
  one core and the server on another (`taskset`), nginx with one worker. Each
  server has exactly one core, so its requests a second are per core, and no
  server can take the load generator's core by having more threads.
- unpinned: everything shares every core, wrk with two threads and nginx with
  two workers, as on a machine where nothing is set up for a benchmark.

Ratios measured in the same run are what to compare: absolute numbers depend on
the machine and on whatever else it is doing. The tables show medians of the
rounds and their spread (lowest to highest).
"""

import argparse
import csv
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "multithreaded-server"
STAGES = ["single-threaded", "thread-per-client", "not-found", "daemon-join", "thread-pool", "keep-alive", "async"]
MODES = ["pinned", "unpinned"]
# Pinned: the server's core and the load generator's.
SERVER_CPU, LOAD_CPU = 0, 1

# name: (description, path, connections, extra wrk arguments, idle connections held)
WORKLOADS = {
    "close": ("~500-byte page, Connection: close, 50 connections", "/small.html", 50, ["-H", "Connection: close"], 0),
    "keep-alive": ("~500-byte page, keep-alive, 50 connections", "/small.html", 50, [], 0),
    "1mib": ("1 MiB file, keep-alive, 10 connections", "/big.bin", 10, [], 0),
    "idle+load": ("~500-byte page, keep-alive, 50 connections, 300 idle held open", "/small.html", 50, [], 300),
    "idle-1000": ("1,000 idle connections, no load: memory and threads", None, 0, [], 1000),
}


def log(message):
    print(message, flush=True)


# ---------------------------------------------------------------------------
# Set-up

def ensure_tools():
    """Installs wrk and nginx from Debian when they are missing."""
    missing = []
    if shutil.which("wrk") is None:
        missing.append("wrk")
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        missing.append("nginx")
    if missing:
        log(f"installing {', '.join(missing)} from Debian")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def build():
    log("building the server in release mode")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)


def write_site(folder):
    folder.mkdir(parents=True, exist_ok=True)
    page = "<!doctype html>\n<html><head><title>bench</title></head><body>\n<p>" + "x" * 420 + "</p>\n</body></html>\n"
    (folder / "small.html").write_text(page)
    (folder / "big.bin").write_bytes(os.urandom(1024 * 1024))
    (folder / "index.html").write_text(page)
    (folder / "error.html").write_text("<!doctype html><p>not found</p>\n")
    return len(page.encode())


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


# ---------------------------------------------------------------------------
# Servers

class Server:
    """One server process (or process tree, for nginx) on a free port."""

    def __init__(self, name, site, workdir, mode="unpinned"):
        self.name = name
        self.port = free_port()
        if name == "nginx":
            conf = workdir / f"nginx-{self.port}.conf"
            workers = 1 if mode == "pinned" else 2
            conf.write_text(NGINX_CONF.format(port=self.port, site=site, work=workdir, workers=workers))
            command = [nginx_binary(), "-c", str(conf), "-e", str(workdir / "nginx-error.log")]
        elif name == "python":
            command = [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1", "--directory", str(site)]
        else:
            # `thread-pool@4`: a stage with that many worker threads.
            stage, _, threads = name.partition("@")
            command = [str(BINARY), "--stage", stage, "--port", str(self.port), "--root", str(site), "--quiet"]
            if threads:
                command += ["--threads", threads]
        if mode == "pinned":
            # Every thread (and nginx's worker) inherits the one core.
            command = ["taskset", "-c", str(SERVER_CPU), *command]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)

    def pids(self):
        pids = [self.process.pid]
        try:
            children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
            pids += [int(child) for child in children]
        except OSError:
            pass
        return pids

    def sample(self):
        """(peak resident memory in KiB, threads) over the whole process tree."""
        peak = threads = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            peak += int(fields.get("VmHWM", "0 kB").split()[0])
            threads += int(fields.get("Threads", "0").strip())
        return peak, threads

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {work}/nginx-{port}.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 5s;
    keepalive_requests 1000000;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    types {{ text/html html; application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port};
        root {site};
    }}
}}
"""


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


# ---------------------------------------------------------------------------
# Load

class IdleHolder:
    """Holds connections open: half of them after one request (kept alive, where
    the server keeps connections), half never sending a byte (a browser's
    preconnect, or an attacker). All are opened first and the requests sent all
    at once, so a server that gives each connection a thread holds them all."""

    def __init__(self, port, count):
        self.sockets = []
        failures = 0
        for _ in range(count):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                failures = 0
            except OSError:
                # A server that accepts no more (stage 1 is stuck on its first
                # idle client and its backlog is full): stop trying.
                failures += 1
                if failures >= 3:
                    break
                continue
            self.sockets.append(s)
        request = b"GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n"
        talkers = self.sockets[::2]
        for s in talkers:
            try:
                s.sendall(request)
            except OSError:
                pass
        time.sleep(0.5)  # let the server answer what it will
        for s in talkers:
            s.setblocking(False)
            try:
                s.recv(65536)
            except OSError:
                pass

    def close(self):
        for s in self.sockets:
            s.close()


def run_wrk(port, workload, duration, mode="unpinned"):
    _, path, connections, extra, _ = WORKLOADS[workload]
    # Pinned, one wrk thread on its own core; unpinned, two, on any.
    threads = "1" if mode == "pinned" else "2"
    command = ["wrk", "--latency", "-t", threads, "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s", *extra, f"http://127.0.0.1:{port}{path}"]
    if mode == "pinned":
        command = ["taskset", "-c", str(LOAD_CPU), *command]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    return parse_wrk(out, duration)


def parse_wrk(out, duration):
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    requests = int(total.group(1)) if total else 0
    seconds = float(total.group(2)) if total else duration
    unit = total.group(3) if total else "s"
    seconds = {"ms": seconds / 1000, "m": seconds * 60}.get(unit, seconds)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = None
    if p99:
        value, unit = float(p99.group(1)), p99.group(2)
        p99_ms = {"us": value / 1000, "ms": value, "s": value * 1000}[unit]
    return {
        "rps": (requests - bad) / seconds if seconds else 0.0,
        "p99_ms": p99_ms,
        "non2xx": bad,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
    }


def measure(server_name, workload, duration, site, workdir, mode="unpinned"):
    server = Server(server_name, site, workdir, mode)
    holder = None
    peak_threads = [0]
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            peak_threads[0] = max(peak_threads[0], server.sample()[1])
            stop.wait(0.1)

    watcher = threading.Thread(target=sampler, daemon=True)
    watcher.start()
    try:
        idle = WORKLOADS[workload][4]
        if idle:
            holder = IdleHolder(server.port, idle)
        if WORKLOADS[workload][1] is None:
            time.sleep(1.0)  # let every thread start, every buffer fill
            result = {"rps": None, "p99_ms": None, "non2xx": 0, "socket_errors": 0, "held": len(holder.sockets)}
        else:
            run_wrk(server.port, workload, 1, mode)  # warm up
            result = run_wrk(server.port, workload, duration, mode)
        peak_kib, threads = server.sample()
        result["peak_rss_mib"] = peak_kib / 1024
        result["threads"] = max(threads, peak_threads[0])
        return result
    finally:
        stop.set()
        watcher.join()
        if holder:
            holder.close()
        server.stop()


# ---------------------------------------------------------------------------
# Reporting

def summarise(raw, servers, workloads, mode="pinned"):
    """Medians over the rounds of one mode, by (workload, server)."""
    summary = {}
    for workload in workloads:
        for server in servers:
            runs = [r for r in raw if r["workload"] == workload and r["server"] == server and r.get("mode", "unpinned") == mode]
            if not runs:
                continue
            rps = [r["rps"] for r in runs if r["rps"] is not None]
            p99 = [r["p99_ms"] for r in runs if r["p99_ms"] is not None]
            summary[(workload, server)] = {
                "rps": statistics.median(rps) if rps else None,
                "rps_low": min(rps) if rps else None,
                "rps_high": max(rps) if rps else None,
                "p99_ms": statistics.median(p99) if p99 else None,
                "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
                "threads": max(r["threads"] for r in runs),
                "rounds": len(runs),
            }
        base = summary.get((workload, "nginx"), {}).get("rps")
        for server in servers:
            entry = summary.get((workload, server))
            if entry:
                entry["vs_nginx"] = entry["rps"] / base if base and entry["rps"] is not None else None
                # Pinned, the server has one core: its rate is per core.
                cores = 1 if mode == "pinned" else (os.cpu_count() or 1)
                entry["rps_per_core"] = entry["rps"] / cores if entry["rps"] is not None else None
    return summary


def spread(e):
    """The lowest and highest of the rounds, as text."""
    if e.get("rps_low") is None or e["rounds"] < 2:
        return "-"
    return f"{e['rps_low']:,.0f}-{e['rps_high']:,.0f}"


def print_table(summary, servers, workloads, mode="pinned"):
    log("")
    log(f"{mode}:")
    header = f"{'workload':<11} {'server':<18} {'req/s':>10} {'spread':>17} {'p99 ms':>8} {'peak RSS':>9} {'threads':>7} {'vs nginx':>8}"
    log(header)
    log("-" * len(header))
    for workload in workloads:
        for server in servers:
            e = summary.get((workload, server))
            if not e:
                continue
            rps = f"{e['rps']:.0f}" if e["rps"] is not None else "-"
            p99 = f"{e['p99_ms']:.2f}" if e["p99_ms"] is not None else "-"
            ratio = f"{e['vs_nginx']:.2f}x" if e.get("vs_nginx") is not None else "-"
            log(f"{workload:<11} {server:<18} {rps:>10} {spread(e):>17} {p99:>8} {e['peak_rss_mib']:>7.1f}Mi {e['threads']:>7} {ratio:>8}")
        log("")


def write_results(raw, summaries, out, meta):
    """`summaries` maps each mode measured to its summary. The published files
    (summary.md, goals.md, the charts) are the pinned mode's when it was
    measured; the unpinned table is summary-unpinned.md."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["round", "mode", "workload", "server", "rps", "p99_ms", "non2xx", "socket_errors", "peak_rss_mib", "threads"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(raw)
    rows = [{"mode": m, "workload": w, "server": s, **v} for m, summary in summaries.items() for (w, s), v in summary.items()]
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["mode", "workload", "server", "rps", "rps_low", "rps_high", "rps_per_core", "p99_ms", "peak_rss_mib", "threads", "vs_nginx", "rounds"])
        writer.writeheader()
        writer.writerows(rows)
    published = "pinned" if "pinned" in summaries else next(iter(summaries))
    summary = summaries[published]
    goals = check_goals(summary) if published == "pinned" else []
    (out / "results.json").write_text(json.dumps({"meta": meta, "summary": rows, "goals": goals, "runs": raw}, indent=2) + "\n")
    (out / "summary.md").write_text(markdown_summary(summary, meta, published))
    if "unpinned" in summaries and published != "unpinned":
        (out / "summary-unpinned.md").write_text(markdown_summary(summaries["unpinned"], meta, "unpinned"))
    if goals:
        (out / "goals.md").write_text(markdown_goals(goals))
    else:
        # A run without nginx or python (a sweep of pool sizes) checks no goal.
        (out / "goals.md").unlink(missing_ok=True)


def markdown_summary(summary, meta, mode):
    """The table the book includes, so its numbers are always the last run's."""
    how = {
        "pinned": f"pinned: each server on core {SERVER_CPU} alone (nginx with one worker), wrk with one thread on core {LOAD_CPU}, so req/s is per server core",
        "unpinned": "unpinned: servers and wrk (two threads) share every core, nginx with two workers",
    }[mode]
    lines = [
        f"Measured {meta['date']} on {meta['cpus']} CPUs, {how}: {meta['rounds']} interleaved round{'s' if meta['rounds'] > 1 else ''} of "
        f"{meta['duration_s']} s per server and workload, medians shown with the lowest and highest round; {meta['load_generator']}, {meta['nginx']}.",
        "",
        "| workload | server | req/s | spread | p99 latency | peak RSS | threads | vs nginx |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (workload, server), e in summary.items():
        rps = f"{e['rps']:,.0f}" if e["rps"] is not None else "-"
        p99 = f"{e['p99_ms']:.1f} ms" if e["p99_ms"] is not None else "-"
        ratio = f"{e['vs_nginx']:.2f}x" if e.get("vs_nginx") is not None else "-"
        lines.append(f"| {workload} | {server} | {rps} | {spread(e)} | {p99} | {e['peak_rss_mib']:.1f} MiB | {e['threads']} | {ratio} |")
    return "\n".join(lines) + "\n"


# (what, workload, server, how to measure it, the goal)
# keep-alive's default number of workers, as `default_threads` in
# src/stages/mod.rs chooses it: twice the cores, at least 4.
KEEP_ALIVE_WORKERS = max(4, 2 * (os.cpu_count() or 2))

# Measured pinned: each server on one core, against nginx with one worker.
GOALS = [
    ("thread-pool, small page, Connection: close", "close", "thread-pool", "vs_nginx", 1.0),
    ("keep-alive, small page, Connection: close", "close", "keep-alive", "vs_nginx", 1.0),
    ("thread-per-client, small page, Connection: close", "close", "thread-per-client", "vs_nginx", 0.5),
    ("keep-alive, small page, keep-alive", "keep-alive", "keep-alive", "vs_nginx", 0.9),
    ("async, small page, keep-alive", "keep-alive", "async", "vs_nginx", 1.0),
    ("keep-alive, 1 MiB file", "1mib", "keep-alive", "vs_nginx", 0.9),
    ("async, 1 MiB file", "1mib", "async", "vs_nginx", 0.9),
    ("keep-alive with 300 idle, against itself without", "idle+load", "keep-alive", "vs_self", 0.8),
    ("keep-alive, 1,000 idle: peak RSS (MiB, at most)", "idle-1000", "keep-alive", "rss", 30.0),
    ("keep-alive, 1,000 idle: threads (at most workers + 4)", "idle-1000", "keep-alive", "threads", KEEP_ALIVE_WORKERS + 4),
]
THREADED = ["thread-per-client", "not-found", "daemon-join", "thread-pool", "keep-alive", "async"]


def check_goals(summary):
    goals = []
    for what, workload, server, how, goal in GOALS:
        entry = summary.get((workload, server))
        if not entry:
            continue
        if how == "vs_nginx":
            value, met = entry.get("vs_nginx"), (entry.get("vs_nginx") or 0) >= goal
        elif how == "vs_self":
            alone = summary.get(("keep-alive", server), {}).get("rps")
            value = entry["rps"] / alone if alone and entry["rps"] is not None else None
            met = value is not None and value >= goal
        elif how == "rss":
            value, met = entry["peak_rss_mib"], entry["peak_rss_mib"] <= goal
        else:
            value, met = entry["threads"], entry["threads"] <= goal
        goals.append({"goal": what, "target": goal, "measured": value, "met": met, "kind": how})
    for workload in ("close", "keep-alive", "1mib"):
        python = summary.get((workload, "python"), {}).get("rps")
        for server in THREADED:
            entry = summary.get((workload, server))
            if not entry or not python or entry["rps"] is None:
                continue
            value = entry["rps"] / python
            goals.append({"goal": f"{server} against python -m http.server, {workload}", "target": 10.0,
                          "measured": value, "met": value >= 10.0, "kind": "vs_python"})
    return goals


def shown_goal(g):
    """A goal's target and measured value, as the table and the log show them."""
    if g["kind"] in ("vs_nginx", "vs_self", "vs_python"):
        return f"≥ {g['target']:.1f}x", f"{g['measured']:.2f}x" if g["measured"] is not None else "-"
    if g["kind"] == "rss":
        return f"≤ {g['target']:.0f} MiB", f"{g['measured']:.1f} MiB"
    return f"≤ {g['target']}", f"{g['measured']}"


def markdown_goals(goals):
    lines = ["| goal | target | measured | met |", "|---|---:|---:|:---:|"]
    for g in goals:
        target, measured = shown_goal(g)
        lines.append(f"| {g['goal']} | {target} | {measured} | {'yes' if g['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


COLORS = {"nginx": "#264653", "python": "#8d99ae", "async": "#1f6f8b", "keep-alive": "#2a9d8f", "thread-pool": "#e9c46a",
          "daemon-join": "#f4a261", "not-found": "#f4a261", "thread-per-client": "#e76f51", "single-threaded": "#b5838d"}


def bar_chart(title, unit, values, path, reference=None):
    """A horizontal bar chart as SVG: one bar per server, labelled with its value."""
    width, bar, gap, left, top = 720, 22, 8, 150, 46
    height = top + len(values) * (bar + gap) + 30
    top_value = max([v for _, v in values if v] + [1e-9])
    scale = (width - left - 110) / top_value
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
             f'<rect width="{width}" height="{height}" fill="#fdfcf8"/>',
             f'<text x="12" y="24" font-size="15" font-weight="bold">{title}</text>']
    ref_x = left + reference * scale if reference else None
    labels = []
    for i, (name, value) in enumerate(values):
        y = top + i * (bar + gap)
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{name}</text>')
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 16}" fill="#888">not measured</text>')
            continue
        w = max(1.0, value * scale)
        color = COLORS.get(name.partition("@")[0], "#999")
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" rx="3" fill="{color}"/>')
        label = f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"
        x = left + w + 6
        # A value just short of nginx's sits on nginx's dashed line: blank the
        # line behind the label, which is drawn after it. The width is a
        # generous guess (0.6 em a character), since SVG cannot measure text.
        label_width = 0.6 * 13 * len(label)
        if ref_x is not None and x - 3 <= ref_x <= x + label_width + 3:
            labels.append(f'<rect x="{x - 3:.1f}" y="{y + 1}" width="{label_width + 6:.1f}" '
                          f'height="{bar - 2}" fill="#fdfcf8"/>')
        labels.append(f'<text x="{x:.1f}" y="{y + 16}">{label}</text>')
    if reference:
        parts.append(f'<line x1="{ref_x:.1f}" y1="{top - 6}" x2="{ref_x:.1f}" y2="{height - 24}" stroke="#264653" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{ref_x:.1f}" y="{height - 8}" text-anchor="middle" fill="#264653">nginx</text>')
    # The values last, over the line.
    parts.extend(labels)
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def draw_charts(summary, servers, workloads, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for workload in workloads:
        desc = WORKLOADS[workload][0]
        if WORKLOADS[workload][1] is None:
            values = [(s, summary[(workload, s)]["peak_rss_mib"]) for s in servers if (workload, s) in summary]
            bar_chart(f"{desc}: peak memory", "MiB", values, folder / f"{workload}-memory.svg")
            values = [(s, float(summary[(workload, s)]["threads"])) for s in servers if (workload, s) in summary]
            bar_chart(f"{desc}: threads", "threads", values, folder / f"{workload}-threads.svg")
            continue
        values = [(s, summary[(workload, s)]["rps"]) for s in servers if (workload, s) in summary]
        nginx = summary.get((workload, "nginx"), {}).get("rps")
        bar_chart(f"{desc}: requests per second", "req/s", values, folder / f"{workload}.svg", reference=nginx)


# ---------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round of 2-second runs")
    parser.add_argument("--modes", default=",".join(MODES), help="pinned, unpinned, or both (the default)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--servers", default=",".join(STAGES + ["nginx", "python"]))
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--charts", default=str(ROOT / "chapters" / "images" / "bench"))
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 2
    servers = args.servers.split(",")
    workloads = args.workloads.split(",")
    for name in workloads:
        if name not in WORKLOADS:
            parser.error(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    modes = args.modes.split(",")
    for mode in modes:
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if "pinned" in modes and len(os.sched_getaffinity(0) & {SERVER_CPU, LOAD_CPU}) < 2:
        parser.error(f"pinned needs cores {SERVER_CPU} and {LOAD_CPU}; run with --modes unpinned")

    ensure_tools()
    if not args.no_build:
        build()
    workdir = Path(tempfile.mkdtemp(prefix="multithreaded-server-bench-"))
    workdir.chmod(0o755)  # nginx's workers run as another user and must read the site
    site = workdir / "site"
    page_bytes = write_site(site)

    # In every round, each workload's servers and modes in a new random order,
    # so that noise on the machine hits them all alike.
    pairs = [(s, m) for s in servers for m in modes]
    plan = [(r, w, s, m) for r in range(args.rounds) for w in workloads for s, m in random.sample(pairs, len(pairs))]
    per_run = {w: (args.duration + 2.5 if WORKLOADS[w][1] else 3.0) for w in workloads}
    left = sum(per_run[w] for _, w, _, _ in plan)
    log(f"{len(plan)} measurements, about {left / 60:.0f} minutes")
    raw = []
    started = time.monotonic()
    for n, (round_no, workload, server, mode) in enumerate(plan, 1):
        log(f"[{n}/{len(plan)}] round {round_no + 1}/{args.rounds}  {workload:<10}  {server:<18} {mode:<8} (about {left / 60:.1f} min left)")
        try:
            result = measure(server, workload, args.duration, site, workdir, mode)
        except Exception as error:  # one broken measurement must not lose the rest
            log(f"    failed: {error}")
            result = {"rps": None, "p99_ms": None, "non2xx": 0, "socket_errors": 0, "peak_rss_mib": 0.0, "threads": 0}
        raw.append({"round": round_no + 1, "mode": mode, "workload": workload, "server": server, **result})
        left -= per_run[workload]
        rps = f"{result['rps']:.0f} req/s" if result["rps"] is not None else ""
        log(f"    {rps}  peak RSS {result['peak_rss_mib']:.1f} MiB  {result['threads']} threads")

    summaries = {mode: summarise(raw, servers, workloads, mode) for mode in MODES if mode in modes}
    for mode, summary in summaries.items():
        print_table(summary, servers, workloads, mode)
    if "pinned" in summaries:
        for goal in check_goals(summaries["pinned"]):
            target, measured = shown_goal(goal)
            log(f"{'met   ' if goal['met'] else 'MISSED'} {goal['goal']}: {measured} (goal {target})")
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "rounds": args.rounds,
        "duration_s": args.duration,
        "page_bytes": page_bytes,
        "cpus": os.cpu_count(),
        "load_generator": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0].strip() or "wrk",
        "nginx": subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True).stderr.strip(),
        "elapsed_s": round(time.monotonic() - started),
    }
    write_results(raw, summaries, Path(args.out), meta)
    published = summaries["pinned"] if "pinned" in summaries else summaries["unpinned"]
    draw_charts(published, servers, workloads, Path(args.charts))
    log(f"results in {args.out}, charts in {args.charts}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
