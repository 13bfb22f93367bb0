#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time; a crash, a sanitizer report
# or a broken contract (tests/fuzz/fuzz_input.h) fails. Seeds: the repo's own
# inputs (probe lists, rules, profiles, compat data, tracepoint formats,
# scenarios) and the corpora kept in tests/fuzz/corpus/TARGET. Prints one
# table row per target (executions, coverage) for docs/reliability.md.
#   bash tests/fuzz/run.sh [SECONDS_PER_TARGET]   (default 20)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-20}
build=$(realpath -m "${SKBTRAIL_FUZZ_BUILD_DIR:-$here/build-fuzz}")
cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DSKBTRAIL_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzz_targets -j"$(nproc)" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seed() {  # seed TARGET FILE...
  mkdir -p "$work/$1"
  local target=$1
  shift
  local f
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$work/$target/$(basename "$f")"; done
  return 0
}
seed probe_list "$here"/scripts/*.probes
seed rules "$here"/scripts/*.rules
seed profiles "$here"/scripts/*.profiles
seed compat_table "$here"/scripts/bpf-compat.data
seed tracepoint_format "$here"/tests/fixtures/tracepoint/*.format
seed kallsyms /dev/null
head -c 20000 /proc/kallsyms > "$work/kallsyms/kallsyms-head" 2>/dev/null || true
seed scenario "$here"/tests/scenarios/*.scn
seed frame_parser /dev/null
printf '%s\n' 'tcp_v4_rcv+0x99/0x1000' 'ip_rcv+0x4d [vmlinux]' '- nf_hook_slow+0x3e/0xa0' > "$work/frame_parser/frames"
seed recording /dev/null
seed object_file /dev/null
for target in recording object_file; do
  cp "$here/tests/fuzz/corpus/$target"/* "$work/$target/"
done

failed=()
printf '| target | executions | coverage (edges) | features | corpus |\n|---|---|---|---|---|\n'
for binary in "$build"/tests/fuzz/*_fuzz; do
  target=$(basename "$binary" _fuzz)
  log=$work/$target.log
  if (cd "$work" && "$binary" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$work/$target" >"$log" 2>&1); then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    printf '| %s | %s | %s | %s | %s |\n' "$target" "$execs" "${cov:-?}" "${ft:-?}" "$(ls "$work/$target" | wc -l)"
  else
    printf '| %s | FAILED | | | |\n' "$target"
    mkdir -p "$build/fuzz-findings"
    cp "$log" "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$build/fuzz-findings/" 2>/dev/null || true
    tail -n 25 "$log" | sed 's/^/    /'
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets that failed: ${failed[*]} (logs and inputs: $build/fuzz-findings; rerun: $build/tests/fuzz/TARGET_fuzz FILE)"
  exit 1
fi
