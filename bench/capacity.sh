#!/bin/bash
# Consumer capacity of `skbtrail drop`:
#  1. replay: real drop samples recorded once (--record), then fed to the
#     user-space half alone (--replay: decode, classify, format, output to
#     /dev/null), text and JSON: events/s on one core;
#  2. callgrind: instructions per event of the same path (stable on a noisy
#     machine): the difference between 3 and 1 passes over the recording,
#     divided by the extra events, so start-up cancels out;
#  3. live: the highest drop rate (UDP to a closed port, sockperf --mps)
#     with under 0.1% of samples lost, for perf rings of 8, 64, 256 pages;
#  4. rule blame on vs off: drops/s handled when every drop is a netfilter
#     drop that waits for a ruleset counter read.
#
# usage: sudo bash bench/capacity.sh [--part N]   (N: run only that part)
set -u
cd "$(dirname "$0")/.."
ONLY=""
[ "${1:-}" = --part ] && ONLY=${2:?--part N}
part() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
SKBTRAIL=${SKBTRAIL:-build/runner/skbtrail}
[ -x "$SKBTRAIL" ] || { echo "bench/capacity.sh: build first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench/capacity.sh: run as root" >&2; exit 2; }
command -v sockperf >/dev/null || { echo "bench/capacity.sh: needs sockperf (tools/setup.sh --vm)" >&2; exit 2; }
NS=skbt_bench_cap
WORK=$(mktemp -d)
trap 'ip netns del $NS 2>/dev/null; rm -rf "$WORK"' EXIT
ip netns add $NS && ip -n $NS link set lo up
NETNS=$(stat -L -c %i /run/netns/$NS)

# Waits for "Ctrl-C to stop" in FILE while PID lives.
wait_attached() {
  for _ in $(seq 600); do
    grep -q "Ctrl-C to stop" "$1" && return 0
    kill -0 "$2" 2>/dev/null || { cat "$1" >&2; return 1; }
    sleep 0.1
  done
  return 1
}

if part 1; then
echo "== 1. replay (user space only), kernel $(uname -r)"
"$SKBTRAIL" drop --netns "$NETNS" --record "$WORK/drops.rec" -c 20000 >/dev/null 2>"$WORK/rec.err" &
REC=$!
wait_attached "$WORK/rec.err" $REC || exit 1
ip netns exec $NS sockperf tp -i 127.0.0.1 -p 9 -m 64 -t 10 >/dev/null 2>&1 &
LOAD=$!
wait $REC; kill $LOAD 2>/dev/null; wait $LOAD 2>/dev/null
SAMPLES=$(( $(stat -c %s "$WORK/drops.rec") / 160 ))
echo "recorded ~$SAMPLES drop samples (UDP to a closed port)"
for fmt in text json; do
  extra=""; [ $fmt = json ] && extra="--json"
  line=$("$SKBTRAIL" drop --replay "$WORK/drops.rec" --replay-repeat 50 $extra 2>&1 >/dev/null | grep replayed)
  echo "  $fmt: $line"
done
fi

if part 2; then
echo "== 2. callgrind instructions per event (text output)"
if command -v valgrind >/dev/null; then
  ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$SKBTRAIL" drop --replay "$WORK/drops.rec" \
      --replay-repeat "$1" 2>&1 >/dev/null | awk '/Collected :/ {print $NF}'
  }
  one=$(ir 1); three=$(ir 3)
  events=$(grep -o "replayed [0-9]*" <("$SKBTRAIL" drop --replay "$WORK/drops.rec" 2>&1 >/dev/null) | awk '{print $2}')
  awk -v a="$one" -v b="$three" -v e="$events" \
    'BEGIN {printf "  %.0f instructions per event ((%s - %s) / (2 x %s events))\n", (b - a) / (2 * e), b, a, e}'
else
  echo "  valgrind not installed: apt-get install valgrind"
fi
fi

if part 3; then
echo "== 3. live: highest drop rate with < 0.1% lost"
printf "  %-6s %s\n" pages "rate (offered mps -> drops seen, lost)"
for pages in 8 64 256; do
  best="none"
  for mps in 25000 50000 100000 200000 400000; do
    "$SKBTRAIL" drop --netns "$NETNS" --perf-pages $pages --json >"$WORK/live.json" 2>"$WORK/live.err" &
    PID=$!
    wait_attached "$WORK/live.err" $PID || exit 1
    ip netns exec $NS sockperf tp -i 127.0.0.1 -p 9 -m 64 -t 3 --mps=$mps >/dev/null 2>&1
    kill -INT $PID; wait $PID
    read -r seen lost < <(grep "\"type\":\"summary\"" "$WORK/live.json" | tail -1 | sed 's/.*"drops":\([0-9]*\),"lost":\([0-9]*\).*/\1 \2/')
    ok=$(awk -v s="${seen:-0}" -v l="${lost:-0}" 'BEGIN {print (s > 0 && l / (s + l) < 0.001) ? 1 : 0}')
    printf "  %-6s %7d mps -> %d drops, %d lost%s\n" $pages $mps "${seen:-0}" "${lost:-0}" "$([ "$ok" = 1 ] && echo "" || echo "  (over 0.1%)")"
    [ "$ok" = 1 ] && best=$mps || break
  done
  printf "  %-6s highest clean offered rate: %s mps\n" $pages "$best"
done
fi

if part 4; then
echo "== 4. rule blame on vs off: netfilter drops (nft counter drop of the same UDP flood)"
# Every drop is a netfilter drop that waits for a ruleset read; reads are at
# least 100 ms apart however many drops, so blame on should handle the same
# rate as blame off. Side by side in one run, 64 pages.
if command -v nft >/dev/null; then
  ip netns exec $NS nft add table inet skbt_bench
  ip netns exec $NS nft add chain inet skbt_bench input '{ type filter hook input priority 0; policy accept; }'
  ip netns exec $NS nft add rule inet skbt_bench input udp dport 9 counter drop
  printf "  %-9s %s\n" blame "offered mps -> drops/s seen, lost, rule named"
  for mps in 25000 100000; do
    for blame in on off; do
      extra=""; [ $blame = off ] && extra="--no-blame"
      "$SKBTRAIL" drop --netns "$NETNS" --perf-pages 64 --json $extra >"$WORK/blame.json" 2>"$WORK/blame.err" &
      PID=$!
      wait_attached "$WORK/blame.err" $PID || exit 1
      ip netns exec $NS sockperf tp -i 127.0.0.1 -p 9 -m 64 -t 3 --mps=$mps >/dev/null 2>&1
      kill -INT $PID; wait $PID
      read -r seen lost < <(grep "\"type\":\"summary\"" "$WORK/blame.json" | tail -1 | sed 's/.*"drops":\([0-9]*\),"lost":\([0-9]*\).*/\1 \2/')
      named=$(grep -c '"certainty":"exact"' "$WORK/blame.json")
      printf "  %-9s %7d mps -> %d drops/s, %d lost, %d named exactly\n" $blame $mps $(( ${seen:-0} / 3 )) "${lost:-0}" "$named"
      eval "rate_${blame}_${mps}=\${seen:-0}"
    done
    eval "on=\$rate_on_$mps off=\$rate_off_$mps"
    awk -v a="$on" -v b="$off" -v m=$mps 'BEGIN {printf "  %7d mps: blame on handles %.2fx the drops of blame off\n", m, b ? a / b : 0}'
  done
else
  echo "  nft not installed: apt-get install nftables"
fi
fi
