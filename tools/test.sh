#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test:
#   1. ctest: GoogleTest units, host tests that drive the real binary against
#      this machine's kernel (and `skbtrail check` against every real header
#      tree here), and the host scenarios (tests/scenarios);
#   2. the VM scenarios: one Debian 6.1 VM under QEMU TCG (tools/vm) runs
#      every kprobe scenario;
#   3. the legacy suite: one boot per legacy kernel (RHEL 7's
#      3.10.0-1160.el7, 4.9, 4.19 from ../shared/kernels; Debian's 5.10 and
#      6.12 from tools/fetch-debian-kernel.sh) running the scenarios tagged
#      legacy in headers mode, plus the bpftrace scripts on 4.19. A legacy
#      kernel that is not on this machine is skipped with the reason.
#   SKBTRAIL_SKIP_VM=1 leaves 2 and 3 out; SKBTRAIL_SKIP_LEGACY=1 leaves 3 out.
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
  exit 0
fi
scenarios=$build/tests/skbtrail-scenarios
failed=()
run_vm() {
  local what=$1
  shift
  local start=$SECONDS
  echo "=== $what ==="
  if "$scenarios" --vm "$@" "$here/tests/scenarios"; then
    echo "=== $what: passed in $((SECONDS - start)) s ==="
  else
    echo "=== $what: FAILED after $((SECONDS - start)) s ==="
    failed+=("$what")
  fi
}

run_vm "Debian 6.1 VM: every VM scenario"

if [ "${SKBTRAIL_SKIP_LEGACY:-0}" = 1 ]; then
  echo "legacy suite skipped (SKBTRAIL_SKIP_LEGACY=1)"
else
  # What each kernel adds: RHEL 7 its backport (no tcp tracepoints, no drop
  # reasons, pre-4.4 signatures), 4.9 the frame-pointer unwinder and the
  # pre-4.11 verifier, 4.19 the ORC unwinder and the tcp tracepoints (and
  # bpftrace: the scripts take 1-6 min each to compile under TCG, so they
  # run on one legacy kernel), 5.10 an LTS without drop reasons, 6.12 the
  # newest drop paths and RST reasons.
  for kernel in 3.10.0-1160.el7.x86_64 4.9.337 4.19.322; do
    if ! "$here/tools/vm" --kernel "$kernel" --release >/dev/null 2>&1; then
      echo "=== legacy $kernel: SKIPPED (not in \$SKBTRAIL_KERNEL_DIRS, ../shared/kernels or /work/shared/kernels) ==="
      continue
    fi
    tags=legacy
    [ "$kernel" = 4.19.322 ] && tags=legacy,bpftrace
    run_vm "legacy $kernel" --kernel "$kernel" --tags "$tags" --vm-timeout 1500
  done
  for suite in bullseye trixie; do
    if ! dir=$("$here/tools/fetch-debian-kernel.sh" "$suite"); then
      echo "=== legacy Debian $suite: FAILED to fetch the kernel ==="
      failed+=("fetch $suite")
      continue
    fi
    run_vm "legacy Debian $suite ($(cat "$dir/release"))" --kernel "$dir" --tags legacy --vm-timeout 1200
  done
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'VM suites that failed: %s\n' "${failed[*]}"
  exit 1
fi
echo "every VM suite passed"
