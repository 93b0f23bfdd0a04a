#!/usr/bin/env bash
# Makes every transcript in the book again, from real runs of the server:
# runs each scripts/transcripts/<chapter>.sh, which writes
# chapters/transcripts/<chapter>/*.txt (and .html for coloured logs).
#
#     scripts/transcripts.sh              # all chapters
#     scripts/transcripts.sh stage-1      # the chapters whose name starts so
#
# Needs curl, nc, ss, script, python3 and chromium; on Debian:
#     apt-get install -y curl netcat-openbsd iproute2 util-linux python3 chromium
# Takes about a minute: some experiments wait for the server's timeouts.
set -euo pipefail
cd "$(dirname "$0")/.."
# A missing tool would leave its error in a transcript, not stop the run.
for tool in curl nc ss script python3; do
  command -v "$tool" >/dev/null || { echo "scripts/transcripts.sh needs $tool (see the list above)" >&2; exit 1; }
done
cargo build --quiet
for script in scripts/transcripts/"${1:-}"*.sh; do
  echo "==> $script"
  bash "$script"
done
