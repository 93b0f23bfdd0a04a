#!/usr/bin/env bash
# Makes autograder.zip for Gradescope's "Zip file upload": setup.sh,
# run_autograder, class.toml and points.toml from this folder, and the
# course's source (as committed) in course/, which setup.sh builds.
#
#     exercises/gradescope/make-zip.sh [OUT.zip]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
zip=$(realpath -m "${1:-autograder.zip}")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$here/setup.sh" "$here/run_autograder" "$here/class.toml" "$here/points.toml" "$stage/"
mkdir "$stage/course"
git -C "$repo" archive --format=tar HEAD | tar -x -C "$stage/course"
rm -f "$zip"
(cd "$stage" && python3 -m zipfile -c "$zip" setup.sh run_autograder class.toml points.toml course)
echo "wrote $zip"
