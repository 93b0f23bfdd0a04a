#!/bin/sh
# Compiles one C server of this folder and runs it, as a submission in C is
# started: from the repository's root, with no make.
#
#     sh tests/student-servers/cc.sh wedged.c PORT ROOT
#
# The binary goes into target/student-servers/ (made if missing), and is
# built again only when the source is newer. The compiler is $CC, or cc;
# Linux and macOS. The script then execs the binary, so the server is the
# process the grader started, in its process group, and SIGKILL of the group
# stops it with nothing left behind.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 SOURCE.c [ARGUMENT ...]" >&2
    exit 2
fi
here=$(dirname "$0")
source="$here/$1"
shift
if [ ! -f "$source" ]; then
    echo "error: no such source: $source" >&2
    exit 2
fi
out=target/student-servers
binary="$out/$(basename "$source" .c)"
mkdir -p "$out"
if [ ! -x "$binary" ] || [ "$source" -nt "$binary" ]; then
    # Into a file of this process's own first, then renamed: two graders
    # starting the same server at once never run a half-written binary.
    "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -pthread -o "$binary.$$" "$source"
    mv -f "$binary.$$" "$binary"
fi
exec "$binary" "$@"
