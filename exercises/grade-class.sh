#!/usr/bin/env bash
# Grades a class: every submission folder under SUBMISSIONS, one CSV row each.
#
#     exercises/grade-class.sh STAGE SUBMISSIONS > grades.csv
#
# A submission is a folder holding server.py, which takes the port and the
# folder to serve as its two arguments; change SERVER below for another
# language (`cargo run -q --manifest-path "$dir/Cargo.toml" -- --port {port}
# --root {root}`, say). The row has the folder's name, the checks passed, the
# total, and the ids of the checks that failed or were skipped; the whole
# report of each submission is kept beside it, in report.json, for the
# student. Needs python3, to read the JSON.
set -euo pipefail
stage=$1
submissions=$2

echo "student,passed,total,failed,skipped"
for dir in "$submissions"/*/; do
  student=$(basename "$dir")
  SERVER=(python3 "$dir/server.py" "{port}" "{root}")
  # Exit status 1 only means a check failed; 2 means grading could not start.
  status=0
  multithreaded-server grade --stage "$stage" --format json -- "${SERVER[@]}" \
    >"$dir/report.json" 2>/dev/null || status=$?
  if [[ $status -eq 2 ]]; then
    echo "$student,0,0,could not grade,"
    continue
  fi
  python3 - "$student" "$dir/report.json" <<'EOF'
import csv, json, sys

student, path = sys.argv[1:]
with open(path) as file:
    report = json.load(file)
ids = lambda result: " ".join(c["id"] for c in report["checks"] if c["result"] == result)
csv.writer(sys.stdout, lineterminator="\n").writerow(
    [student, report["passed"], report["total"], ids("fail"), ids("skip")]
)
EOF
done
