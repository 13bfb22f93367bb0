#!/bin/bash
# Start-up cost: time and peak RSS from exec to "attached" (ready to report)
# for skbtrail drop and trace: cold (compiling, --no-cache), warm (from the
# compile cache) and from a bundle (no headers, no compiler: the LLVM plugin
# is never loaded), in btf mode and against a real header tree, side by
# side with bpftrace running an equivalent drop script. Median of RUNS runs
# each, then the ratios to bpftrace.
#
# usage: sudo bash bench/startup.sh [RUNS (5)]
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-5}
SKBTRAIL=${SKBTRAIL:-build/runner/skbtrail}
[ -x "$SKBTRAIL" ] || { echo "bench/startup.sh: build first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench/startup.sh: run as root" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# A header tree of another release stands in for "headers mode" on a host
# without its own (compile cost is what is measured, not the readings).
OTHER=$(for d in /lib/modules/*/build; do r=${d#/lib/modules/}; r=${r%/build}
          [ "$r" != "$(uname -r)" ] && [ -d "$d/include" ] && { echo "${d%/build}"; break; }; done)

. bench/startup_lib.sh

# Its own cache, so "cold" and "warm" mean what they say.
CACHE="$WORK/cache"
mkdir -m 0700 "$CACHE"
BUNDLE="$WORK/drop.bundle"
"$SKBTRAIL" bundle drop --headers btf --cache-dir "$CACHE" -o "$BUNDLE" >/dev/null || exit 1

echo "start-up to attached, median of $RUNS, kernel $(uname -r), $(nproc) CPUs"
row "skbtrail drop, cold (btf, --no-cache)" "Ctrl-C to stop" "$SKBTRAIL" drop --headers btf --cache-dir "$CACHE" --no-cache
"$SKBTRAIL" drop --headers btf --cache-dir "$CACHE" --duration 100ms >/dev/null 2>&1   # fills the cache
row "skbtrail drop, warm (btf, compile cache)" "Ctrl-C to stop" "$SKBTRAIL" drop --headers btf --cache-dir "$CACHE"
WARM=$(median < "$WORK/t")
row "skbtrail drop --bundle (no headers, no compiler)" "Ctrl-C to stop" "$SKBTRAIL" drop --bundle "$BUNDLE"
BUNDLED=$(median < "$WORK/t")
if [ -n "$OTHER" ]; then
  row "skbtrail drop, cold (headers: $(basename "$OTHER"))" "Ctrl-C to stop" \
    "$SKBTRAIL" drop --kernel-headers "$OTHER" --force-headers --cache-dir "$CACHE" --no-cache
fi
row "skbtrail trace, cold (btf, every hop)" "Ctrl-C to stop" "$SKBTRAIL" trace --headers btf --cache-dir "$CACHE" --no-cache
"$SKBTRAIL" trace --headers btf --cache-dir "$CACHE" --duration 100ms >/dev/null 2>&1
row "skbtrail trace, warm (btf, every hop)" "Ctrl-C to stop" "$SKBTRAIL" trace --headers btf --cache-dir "$CACHE"
if command -v bpftrace >/dev/null; then
  row "bpftrace $(bpftrace --version | awk '{print $2}') drop_watch_btf.bt" "watching" bpftrace bench/drop_watch_btf.bt
  BPFTRACE=$(median < "$WORK/t")
  awk -v b="$BPFTRACE" -v w="$WARM" -v u="$BUNDLED" 'BEGIN {
    printf "bpftrace / skbtrail drop warm: %.1fx; bpftrace / skbtrail drop --bundle: %.1fx\n", b / w, b / u }'
else
  echo "bpftrace: not installed (sudo bash tools/setup.sh --vm)"
fi
