#!/usr/bin/env bash
# 1000 func+0xoff queries: `skbtrail symbolize` (one process, all queries)
# against the faddr2line way (one addr2line process per query, as the
# kernel's scripts/faddr2line runs it). Same answers required; prints the
# ratio. Timing is reported, never asserted.
#
#   bash bench/symbolize.sh [BUILD_DIR] [VMLINUX]
# Without VMLINUX a fixture kernel image is built with gcc (a few hundred
# functions with inline chains), so the numbers are comparable run to run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
skbtrail=$build/runner/skbtrail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

vmlinux=${2:-}
if [ -z "$vmlinux" ]; then
  {
    echo 'volatile int sink;'
    for i in $(seq 1 300); do
      echo "static inline __attribute__((always_inline)) int leaf$i(int x) { sink = x * $i; return sink + 1; }"
      echo "__attribute__((noinline)) int fn$i(int x) { int y = leaf$i(x); sink = y; return y ^ $i; }"
    done
  } > "$work/fns.c"
  gcc -g -O2 -mcmodel=kernel -fno-pie -no-pie -nostdlib -static -Wl,-Ttext=0xffffffff81000000 \
      -Wl,--defsym=_text=0xffffffff81000000 -Wl,-e,fn1 -o "$work/vmlinux" "$work/fns.c" 2>/dev/null
  vmlinux=$work/vmlinux
fi

# 1000 queries: function starts and middles, round robin over the symbols.
nm -S "$vmlinux" | awk '$3 ~ /^[tT]$/ && $2 != "" {print $4, $1, $2}' > "$work/syms"
count=$(wc -l < "$work/syms")
[ "$count" -gt 0 ] || { echo "bench/symbolize.sh: no function symbols in $vmlinux" >&2; exit 1; }
mapfile -t syms < "$work/syms"
for ((i = 0; i < 1000; i++)); do
  read -r name addr size <<< "${syms[i % count]}"
  off=$(( i % 2 ? 0x$size / 2 : 0 ))
  printf '%s+0x%x %x\n' "$name" "$off" $(( 0x$addr + off ))
done > "$work/queries"
cut -d' ' -f1 "$work/queries" > "$work/frames"
cut -d' ' -f2 "$work/queries" > "$work/addrs"

start=$(date +%s.%N)
xargs "$skbtrail" symbolize --vmlinux "$vmlinux" < "$work/frames" > "$work/ours" 2>/dev/null || true
mid=$(date +%s.%N)
while read -r address; do addr2line -fipe "$vmlinux" "0x$address"; done < "$work/addrs" > "$work/theirs"
end=$(date +%s.%N)

# Same answers: our chains (headers and blank lines dropped, build prefix
# stripped) against addr2line's with the same prefix stripped.
prefix=$(dirname "$vmlinux")/
grep -v -e ':$' -e '^$' "$work/ours" | sed -e "s|$prefix||g" > "$work/ours.lines"
sed -e "s|$prefix||g" -e 's| (discriminator [0-9]*)||' "$work/theirs" > "$work/theirs.lines"
if ! cmp -s "$work/ours.lines" "$work/theirs.lines"; then
  echo "bench/symbolize.sh: answers differ from addr2line:" >&2
  diff "$work/ours.lines" "$work/theirs.lines" | head -20 >&2
  exit 1
fi
awk -v a="$start" -v b="$mid" -v c="$end" -v n=1000 'BEGIN {
  ours = b - a; theirs = c - b;
  printf "symbolize: %d queries, identical answers\n", n;
  printf "  skbtrail symbolize (one process):   %.3f s\n", ours;
  printf "  addr2line per query (faddr2line):   %.3f s\n", theirs;
  printf "  ratio: %.1fx faster\n", theirs / ours }'

# Load cost of the index: one query, so the time is opening the image, its
# DWARF line tables and symbol table; peak RSS from GNU time when present.
if [ -x /usr/bin/time ]; then
  first=$(head -1 "$work/frames")
  /usr/bin/time -f "%e %M" -o "$work/load" "$skbtrail" symbolize --vmlinux "$vmlinux" "$first" > /dev/null 2>&1 || true
  read -r load_s load_kib < "$work/load"
  size_mib=$(du -m "$vmlinux" | cut -f1)
  printf "  index load (one query): %.2f s, peak RSS %.1f MiB, image %s MiB\n" "$load_s" \
    "$(awk -v k="$load_kib" 'BEGIN {print k / 1024}')" "$size_mib"
fi
