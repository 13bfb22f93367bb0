#!/bin/bash
# Bounded memory: skbtrail under a steady event rate for a long time must
# keep a flat RSS. sockperf sends RATE UDP datagrams/s to a closed port in a
# private netns for SECONDS; every one is a drop that `skbtrail drop --diag`
# (or `trace --keep`) reports. VmRSS is sampled every 10 s; the ratio of the
# last sample to the one after the first minute is the result (1.00: flat).
# Loss is what the run's own accounting says at exit.
#
# usage: sudo bash bench/soak.sh [drop|trace] [SECONDS] [RATE]
#   (defaults: drop 600 100000; CI does not run it)
set -u
cd "$(dirname "$0")/.."
MODE=${1:-drop} SECONDS_TOTAL=${2:-600} RATE=${3:-100000}
SKBTRAIL=${SKBTRAIL:-build/runner/skbtrail}
[ -x "$SKBTRAIL" ] || { echo "bench/soak.sh: build first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench/soak.sh: run as root" >&2; exit 2; }
command -v sockperf >/dev/null || { echo "bench/soak.sh: needs sockperf (tools/setup.sh --vm)" >&2; exit 2; }
case $MODE in
  drop) ARGS=(drop --diag --dport 9) ;;
  trace) ARGS=(trace --keep --dport 9 --proto udp) ;;
  *) echo "bench/soak.sh: mode is drop or trace" >&2; exit 2 ;;
esac
NS=skbt_bench_soak
WORK=$(mktemp -d)
trap 'ip netns del $NS 2>/dev/null; rm -rf "$WORK"' EXIT
ip netns add $NS && ip -n $NS link set lo up

# The tool's output goes through tail: the exit lines (loss, summary) are kept.
ip netns exec $NS "$SKBTRAIL" "${ARGS[@]}" --duration "$((SECONDS_TOTAL + 15))s" 2>"$WORK/err" | tail -n 40 >"$WORK/tail" &
sleep 0.5
PID=$(pgrep -n -f "skbtrail ${ARGS[0]} ${ARGS[1]}")
for _ in $(seq 600); do grep -q "Ctrl-C to stop" "$WORK/err" && break; sleep 0.1; done
grep -q "Ctrl-C to stop" "$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
ip netns exec $NS sockperf tp -i 127.0.0.1 -p 9 -m 64 --mps "$RATE" -t "$SECONDS_TOTAL" >"$WORK/sockperf" 2>&1 &
LOAD=$!

echo "== skbtrail ${ARGS[*]}: ${SECONDS_TOTAL} s at $RATE datagrams/s, kernel $(uname -r)"
printf '%8s %10s %10s\n' "t (s)" "VmRSS kB" "VmHWM kB"
start=$(date +%s)
first_minute=""
last=""
while kill -0 $LOAD 2>/dev/null; do
  sleep 10
  t=$(( $(date +%s) - start ))
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$PID/status 2>/dev/null)
  hwm=$(awk '/^VmHWM/ {print $2}' /proc/$PID/status 2>/dev/null)
  [ -n "$rss" ] || break
  printf '%8s %10s %10s\n' "$t" "$rss" "$hwm"
  [ -z "$first_minute" ] && [ "$t" -ge 60 ] && first_minute=$rss
  last=$rss
done
wait $LOAD
kill -INT $PID 2>/dev/null
wait
echo "sockperf: $(grep -o 'Summary: Message Rate is [0-9]* \[msg/sec\]' "$WORK/sockperf" | head -1)"
echo "exit lines:"
grep -E '^--- ' "$WORK/tail" | sed 's/^/  /'
[ -n "$first_minute" ] && awk -v a="$first_minute" -v b="$last" \
  'BEGIN { printf "VmRSS after 1 min %d kB, at the end %d kB: ratio %.2f\n", a, b, b / a }'
