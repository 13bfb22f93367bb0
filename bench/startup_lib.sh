# Shared by the start-up benchmarks: time and peak RSS from exec to READY.
# The caller sets WORK (a scratch directory) and RUNS.

# Runs CMD until READY appears in its output; prints "seconds peak_rss_kib".
time_to_ready() {
  local ready=$1; shift
  local start now pid rss=0
  start=$(date +%s.%N)
  "$@" > "$WORK/out" 2>&1 &
  pid=$!
  for _ in $(seq 3000); do
    if grep -q "$ready" "$WORK/out"; then
      now=$(date +%s.%N)
      rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null)
      kill -INT $pid; wait $pid 2>/dev/null
      awk -v a="$start" -v b="$now" -v r="${rss:-0}" 'BEGIN {printf "%.3f %d\n", b - a, r}'
      return 0
    fi
    kill -0 $pid 2>/dev/null || { echo "failed: $*" >&2; tail -3 "$WORK/out" >&2; echo "nan 0"; return 1; }
    sleep 0.005
  done
  kill -KILL $pid; echo "nan 0"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

row() {
  local label=$1 ready=$2; shift 2
  : > "$WORK/t"; : > "$WORK/r"
  for _ in $(seq "$RUNS"); do
    read -r t r < <(time_to_ready "$ready" "$@")
    echo "$t" >> "$WORK/t"; echo "$r" >> "$WORK/r"
  done
  printf "%-52s %8s s %10s MiB\n" "$label" "$(median < "$WORK/t")" \
    "$(median < "$WORK/r" | awk '{printf "%.1f", $1 / 1024}')"
}

