"""Grades every server of expected.toml and compares each verdict with the
one expected: a table of the differences, and exit status 1 if there are any.

    python3 tests/student-servers/verdicts.py [--grader PATH] [--jobs N] [NAME ...]

Run it from the repository's root, after `cargo build`. It runs the grader as
an instructor would (`grade --stage N --json -- COMMAND`), so it shows what
the grader of the build at hand makes of these servers, fair or not; the test
suite holds the grader to the same file.

A verdict is "pass", "fail", "not-judged" (the check could not get its
evidence because of a fault an earlier check found) or "skip" (the grader
could not run the check, through no fault of the server's). A server whose
table names `systems` is graded only on those (`platform.system()`, lower
case: "linux", "darwin").
"""

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERDICTS = ("pass", "fail", "not-judged", "skip")


def grade(grader, server):
    """The grader's verdict for each check, or the reason it could not run."""
    systems = server.get("systems")
    if systems and platform.system().lower() not in systems:
        return None, f"not run: its verdicts hold on {', '.join(systems)} only", 0.0
    missing = [program for program in server["needs"] if shutil.which(program) is None]
    if missing:
        return None, f"not run: {', '.join(missing)} not on the PATH", 0.0
    started = time.monotonic()
    run = subprocess.run(
        [grader, "grade", "--stage", str(server["stage"]), "--json", "--", *server["command"]],
        capture_output=True,
        text=True,
    )
    took = time.monotonic() - started
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        return None, f"no report (exit {run.returncode}): {run.stderr.strip()[-300:]}", took
    verdicts = {
        check["id"]: (check["result"], check.get("problem") or check.get("reason"))
        for check in report["checks"]
    }
    return verdicts, None, took


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grader", default="target/debug/multithreaded-server")
    parser.add_argument("--jobs", type=int, default=1, help="servers graded at once")
    parser.add_argument("names", nargs="*", help="grade only these servers")
    args = parser.parse_args()
    if not Path(args.grader).is_file():
        sys.exit(f"error: no grader at {args.grader}; run `cargo build` first, or give --grader")
    with open(HERE / "expected.toml", "rb") as file:
        servers = tomllib.load(file)["server"]
    for server in servers:
        for check, verdict in server["verdicts"].items():
            if verdict not in VERDICTS:
                sys.exit(f"error: {server['name']}: `{verdict}` for {check} is none of {', '.join(VERDICTS)}")
    unknown = set(args.names) - {server["name"] for server in servers}
    if unknown:
        sys.exit(f"error: no such server in expected.toml: {', '.join(sorted(unknown))}")
    if args.names:
        servers = [server for server in servers if server["name"] in args.names]

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda server: grade(args.grader, server), servers))

    differences = 0
    for server, (verdicts, trouble, took) in zip(servers, results):
        print(f"{server['name']} (stage {server['stage']}, {took:.1f} s)")
        if trouble:
            print(f"  {trouble}")
            differences += trouble.startswith("no report")
            continue
        expected = server["verdicts"]
        for check in list(expected) + [check for check in verdicts if check not in expected]:
            want = expected.get(check, "(not expected)")
            got, problem = verdicts.get(check, ("(not reported)", None))
            if want == got:
                print(f"  ok    {check}: {got}")
                continue
            differences += 1
            print(f"  DIFF  {check}: expected {want}, got {got}")
            if problem:
                print(f"          {problem[:200]}")
    print(f"{differences} difference(s)")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
