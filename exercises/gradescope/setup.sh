#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image, when it builds the
# autograder: it installs the toolchains the class's recipes need, and builds
# the grader from the course's source, which make-zip.sh put in source/course.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap for the sandbox (where the container allows one); a C compiler,
# Python, Node and Java for the recipes; curl for rustup.
apt-get install -y -qq --no-install-recommends \
  bubblewrap build-essential ca-certificates curl python3 nodejs default-jdk-headless
if ! command -v cargo >/dev/null; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
# shellcheck source=/dev/null
source "$HOME/.cargo/env"
cargo build --release --locked --manifest-path /autograder/source/course/Cargo.toml --bin multithreaded-server
install -m 755 /autograder/source/course/target/release/multithreaded-server /usr/local/bin/
