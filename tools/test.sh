#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test:
#   1. ctest: GoogleTest units, host tests that drive the real binary against
#      this machine's kernel, and the host scenarios (tests/scenarios);
#   2. the VM scenarios: one Debian 6.1 VM under QEMU TCG (tools/vm) runs
#      every kprobe scenario. SKBTRAIL_SKIP_VM=1 leaves them out.
#
#   sudo bash tools/test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${SKBTRAIL_BUILD_DIR:-$here/build}

bash "$here/tools/setup.sh" --vm
cmake -S "$here" -B "$build" -DSKBTRAIL_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure

if [ "${SKBTRAIL_SKIP_VM:-0}" = 1 ]; then
  echo "VM scenarios skipped (SKBTRAIL_SKIP_VM=1)"
else
  "$build/tests/skbtrail-scenarios" --vm "$here/tests/scenarios"
fi
