#!/bin/sh
# Runs Debian's nginx as a reference server for the grader, as any user:
#
#     sh tests/student-servers/nginx.sh PORT ROOT
#
# nginx.conf beside this script is the configuration, with {port}, {root} and
# {scratch} filled in. The scratch folder holds what nginx writes (its
# configuration, pid file and temporary folders), and is removed as soon as
# nginx is listening: the grader stops a server with SIGKILL, which leaves no
# chance to clean up later, and a running nginx needs none of those files
# again to serve static files. (When it exits it cannot remove its pid file,
# and says so in a line of its log; that is all.)
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 PORT ROOT" >&2
    exit 2
fi
port=$1
root=$(cd "$2" && pwd)
here=$(dirname "$0")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/student-servers-nginx.XXXXXX")

sed -e "s|{port}|$port|g" -e "s|{root}|$root|g" -e "s|{scratch}|$scratch|g" \
    "$here/nginx.conf" >"$scratch/nginx.conf"
nginx -p "$scratch" -c "$scratch/nginx.conf" -e stderr -g 'daemon off;' &
nginx=$!

# nginx writes its pid file once its sockets are bound.
tries=0
while [ ! -s "$scratch/nginx.pid" ]; do
    if ! kill -0 "$nginx" 2>/dev/null || [ $tries -ge 200 ]; then
        # It exited (a port in use, say; it said why on stderr), or hangs.
        rm -rf "$scratch"
        kill "$nginx" 2>/dev/null || true
        wait "$nginx" || exit
        exit 1
    fi
    tries=$((tries + 1))
    sleep 0.05
done
rm -rf "$scratch"
# Stopped by hand (Ctrl-C, kill), stop nginx too; the grader stops the whole
# process group at once.
trap 'kill "$nginx" 2>/dev/null' INT TERM HUP
wait "$nginx"
