#!/bin/bash
# The one file (tools/release.sh) next to the dynamic build it carries: its
# size, the unpacked payload's, the first run (unpacking), and start-up to
# attached side by side, interleaved, from the compile cache and from a
# bundle; median of RUNS each and the ratio (the target: within 10% of the
# dynamic build).
#
# usage: sudo bash bench/onefile.sh [RUNS (7)]
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-7}
SKBTRAIL=${SKBTRAIL:-build/runner/skbtrail}
[ -x "$SKBTRAIL" ] || { echo "bench/onefile.sh: build first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench/onefile.sh: run as root" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
. bench/startup_lib.sh

ONEFILE=$WORK/skbtrail-onefile
tools/release.sh --build-dir "$(dirname "$(dirname "$SKBTRAIL")")" -o "$ONEFILE" >/dev/null || exit 1
export SKBTRAIL_RUNTIME_DIR=$WORK/runtime
mkdir -m 0700 "$SKBTRAIL_RUNTIME_DIR"
CACHE=$WORK/cache
mkdir -m 0700 "$CACHE"

size() { du -scb "$@" | tail -n 1 | awk '{s += $1} END {printf "%.1f MiB", s / 1048576}'; }
strip --strip-unneeded -o "$WORK/skbtrail.stripped" "$SKBTRAIL"
strip --strip-unneeded -o "$WORK/plugin.stripped" "$(dirname "$SKBTRAIL")/libskbtrail-llvm.so"
echo "one file: $(size "$ONEFILE"); dynamic build, stripped: skbtrail $(size "$WORK/skbtrail.stripped") + plugin $(size "$WORK/plugin.stripped") (+ the system's libraries)"
start=$(date +%s.%N)
"$ONEFILE" --version >/dev/null
echo "first run (unpacking): $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f s", b - a}'); unpacked: $(size "$SKBTRAIL_RUNTIME_DIR")"

"$SKBTRAIL" drop --headers btf --cache-dir "$CACHE" --duration 100ms >/dev/null 2>&1   # fills the cache
BUNDLE=$WORK/drop.bundle
"$SKBTRAIL" bundle drop --headers btf --cache-dir "$CACHE" -o "$BUNDLE" >/dev/null || exit 1
# Interleaved: dynamic, one file, dynamic, ... so load on the machine hits both alike.
for what in cache bundle; do
  : > "$WORK/dyn"; : > "$WORK/one"
  for _ in $(seq "$RUNS"); do
    if [ $what = cache ]; then args=(drop --headers btf --cache-dir "$CACHE"); else args=(drop --bundle "$BUNDLE"); fi
    time_to_ready "Ctrl-C to stop" "$SKBTRAIL" "${args[@]}" | awk '{print $1}' >> "$WORK/dyn"
    time_to_ready "Ctrl-C to stop" "$ONEFILE" "${args[@]}" | awk '{print $1}' >> "$WORK/one"
  done
  d=$(median < "$WORK/dyn"); o=$(median < "$WORK/one")
  awk -v w="$what" -v d="$d" -v o="$o" 'BEGIN {printf "drop to attached, %-26s dynamic %.3f s, one file %.3f s: %.2fx\n",
    (w == "cache" ? "from the compile cache:" : "from a bundle:"), d, o, o / d}'
done
