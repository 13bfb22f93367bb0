#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test:
#   1. ctest: GoogleTest units, host tests that drive the real binary against
#      this machine's kernel (and `skbtrail check` against every real header
#      tree here), and the host scenarios (tests/scenarios); then the
#      libFuzzer targets (tests/fuzz/run.sh);
#   2. the VM scenarios: one Debian 6.1 VM under QEMU TCG (tools/vm) runs
#      every kprobe scenario;
#   3. the legacy suite: one boot per legacy kernel (RHEL 7's
#      3.10.0-1160.el7, 4.9, 4.19 from ../shared/kernels; Debian's 5.10 and
#      6.12 from tools/fetch-debian-kernel.sh) running the scenarios tagged
#      legacy in headers mode, plus the bpftrace scripts on 4.19. A legacy
#      kernel that is not on this machine is skipped with the reason.
#   4. what users install: the .deb (cpack; installed with apt-get, run from
#      /usr/bin, removed) and the one file (tools/release.sh) in an empty
#      chroot, then on bare RHEL 7 and 4.19 VMs (busybox, the file and the
#      kernel's headers, nothing else).
#   SKBTRAIL_SKIP_VM=1 leaves the VMs out; SKBTRAIL_SKIP_LEGACY=1 the legacy boots.
#
#   sudo bash tools/test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${SKBTRAIL_BUILD_DIR:-$here/build}

# Each stage says how long it took: CI has 90 minutes and should stay under 70.
stage_start=$SECONDS
stage_done() { echo "=== $1: $((SECONDS - stage_start)) s (total $((SECONDS / 60)) min) ==="; stage_start=$SECONDS; }
bash "$here/tools/setup.sh" --vm
cmake -S "$here" -B "$build" -DSKBTRAIL_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
stage_done "setup and build"
ctest --test-dir "$build" --output-on-failure
stage_done "ctest"

scenarios=$build/tests/skbtrail-scenarios
failed=()
# Every parser a user or a file can feed, under libFuzzer with ASan/UBSan
# (clang, a build tree of its own), 10 s per target from the kept corpora.
SKBTRAIL_FUZZ_BUILD_DIR=$build-fuzz bash "$here/tests/fuzz/run.sh" 10 || failed+=("fuzzing")
stage_done "fuzzing"
# What users install: the Debian package (installed, run and removed here)
# and the one file (tools/release.sh), run in an empty chroot.
bash "$here/tests/package/deb.sh" "$build" || failed+=("the .deb")
onefile=$build/skbtrail-onefile
"$here/tools/release.sh" --build-dir "$build" -o "$onefile"
SKBTRAIL_ONEFILE=$onefile "$scenarios" --where host --tags onefile "$here/tests/scenarios" || failed+=("the one file")
stage_done "the .deb and the one file"

if [ "${SKBTRAIL_SKIP_VM:-0}" = 1 ]; then
  echo "VM scenarios skipped (SKBTRAIL_SKIP_VM=1)"
  [ ${#failed[@]} -eq 0 ] || { printf 'failed: %s\n' "${failed[*]}"; exit 1; }
  exit 0
fi
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

  # The one file on bare legacy systems: no host root, only busybox, the file
  # and the kernel's headers (it compiles there, under emulation).
  bare=()
  for kernel in 3.10.0-1160.el7.x86_64 4.19.322; do
    "$here/tools/vm" --kernel "$kernel" --release >/dev/null 2>&1 && bare+=("$kernel")
  done
  if [ ${#bare[@]} -gt 0 ]; then
    bash "$here/tests/onefile/bare_vm.sh" "$onefile" "${bare[@]}" || failed+=("the one file on bare kernels")
    stage_done "the one file on bare kernels"
  else
    echo "=== the one file on bare kernels: SKIPPED (no RHEL 7 or 4.19 kernel here) ==="
  fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'suites that failed: %s\n' "${failed[*]}"
  exit 1
fi
echo "every suite passed"
