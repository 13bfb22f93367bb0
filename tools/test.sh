#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test:
# GoogleTest units plus the host tests that drive the real binary against
# this machine's kernel (root).
#
#   sudo bash tools/test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${SKBTRAIL_BUILD_DIR:-$here/build}

bash "$here/tools/setup.sh"
cmake -S "$here" -B "$build" -DSKBTRAIL_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure
