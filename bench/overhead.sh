#!/bin/bash
# What tracing costs the traced host: UDP 64-byte load (sockperf) from one
# network namespace to another over a veth pair, packets/s counted on the
# receiver (Udp InDatagrams), each mode against untraced in interleaved A/B
# pairs (the order flips every pair so drift cancels out).
#
#   S0   untraced
#   S3   the same tracepoints with empty programs (skbtrail exec empty_hops.bpf.c): the dispatch floor
#   S1   skbtrail trace with a filter that matches nothing (--port 1): early rejection in BPF
#   S2   skbtrail trace matching everything, text to /dev/null
#   S2s  S2 with --callstack
#   D1   skbtrail drop --dport 1, the load sent to a closed port (every packet
#        is dropped: Udp NoPorts counted instead), filtered out in BPF
#   B1   bpftrace's equivalent (bench/drop_dport_btf.bt: the kfree_skb
#        tracepoint with the same predicate) on the same load; goal D1 >= B1
#        (BTF kernels; skipped without bpftrace or --kprobes)
#   K1   (--kprobes) skbtrail trace -P 1 on the six kprobe hops, and
#   BK1  bpftrace's kprobes on them with the same predicate; goal K1 >= BK1
#
# Prints per mode: median and min-max of traced/untraced, the medians, and
# the kernel's own ns per BPF run (--bpf-stats). Goals (BENCHMARKS.md):
# S1/S0 >= 0.97, (S0-S1)/(S0-S3) <= 1.25. Never fails on timing.
#
# usage: sudo bash bench/overhead.sh [--kprobes] [PAIRS (7)] [SECONDS per run (4)]
#   --kprobes: trace six functions with kprobes instead of the tracepoint
#   hops (S3: bench/empty_kprobe_hops.bpf.c), for a kernel with kprobes such
#   as the test VM (wall-clock rates under emulation: noisy, see BENCHMARKS.md):
#     tools/vm --timeout 3600 -- bash bench/overhead.sh --kprobes 3 3
set -u
cd "$(dirname "$0")/.."
KPROBES=
if [ "${1:-}" = --kprobes ]; then KPROBES=1; shift; fi
PAIRS=${1:-7}
SECONDS_PER_RUN=${2:-4}
KPROBE_HOPS=__netif_receive_skb,ip_rcv,ip_local_deliver,udp_rcv,ip_output,__dev_queue_xmit
SKBTRAIL=${SKBTRAIL:-build/runner/skbtrail}
[ -x "$SKBTRAIL" ] || { echo "bench/overhead.sh: build first (cmake -B build && make -C build)" >&2; exit 2; }
command -v sockperf >/dev/null || { echo "bench/overhead.sh: needs sockperf (sudo bash tools/setup.sh --vm)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench/overhead.sh: run as root" >&2; exit 2; }

TX=skbt_bench_tx RX=skbt_bench_rx
WORK=$(mktemp -d)
cleanup() {
  pkill -INT -f "$WORK/tracer" 2>/dev/null
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null
  ip netns del $TX 2>/dev/null; ip netns del $RX 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add $TX && ip netns add $RX
ip link add btx0 netns $TX type veth peer name brx0 netns $RX
ip -n $TX addr add 10.77.0.1/24 dev btx0 && ip -n $RX addr add 10.77.0.2/24 dev brx0
ip -n $TX link set btx0 up && ip -n $RX link set brx0 up
ip -n $TX link set lo up && ip -n $RX link set lo up
ip netns exec $RX sockperf server -i 10.77.0.2 -p 11111 >/dev/null 2>&1 &
SERVER=$!
sleep 1

received() { ip netns exec $RX awk '/^Udp: [0-9]/ {print $2}' /proc/net/snmp; }
dropped() { ip netns exec $RX awk '/^Udp: [0-9]/ {print $3}' /proc/net/snmp; }  # NoPorts
# One measured run: receiver packets/s over SECONDS_PER_RUN of load (the
# drop modes send to a closed port and count the drops).
measure() {
  local before after count=received port=11111
  case "${MODE:-}" in D1|B1) count=dropped port=9 ;; esac
  before=$($count)
  ip netns exec $TX sockperf tp -i 10.77.0.2 -p $port -m 64 -t "$SECONDS_PER_RUN" >/dev/null 2>&1
  after=$($count)
  echo $(( (after - before) / SECONDS_PER_RUN ))
}
# Starts the tracer of a mode and waits until it is attached.
start_tracer() {
  local mode=$1
  local args
  local hops=""
  [ -n "$KPROBES" ] && hops="--probes $KPROBE_HOPS"
  local tracer=$SKBTRAIL ready="Ctrl-C to stop"
  case $mode in
    S3)  args="exec bench/empty_hops.bpf.c --bpf-stats"
         [ -n "$KPROBES" ] && args="exec bench/empty_kprobe_hops.bpf.c --bpf-stats" ;;
    S1)  args="trace $hops --port 1 --bpf-stats" ;;
    S2)  args="trace $hops --proto udp --bpf-stats" ;;
    S2s) args="trace $hops --proto udp --callstack --bpf-stats" ;;
    D1)  args="drop --dport 1 --bpf-stats" ;;
    B1)  tracer=$(command -v bpftrace); args="bench/drop_dport_btf.bt"; ready="watching" ;;
    K1)  args="trace --probes $KPROBE_HOPS -P 1 --bpf-stats" ;;
    BK1) tracer=$(command -v bpftrace); args="$WORK/kprobes_port1.bt"; ready="watching" ;;
  esac
  # A symlink named after $WORK lets cleanup find it; the tracer writes to /dev/null.
  ln -sf "$(realpath "$tracer")" "$WORK/tracer"
  "$WORK/tracer" $args >"$WORK/$mode.out" 2>"$WORK/$mode.err" &
  TRACER=$!
  for _ in $(seq 3000); do
    grep -q "$ready" "$WORK/$mode.err" "$WORK/$mode.out" 2>/dev/null && return 0
    kill -0 $TRACER 2>/dev/null || { cat "$WORK/$mode.err" >&2; return 1; }
    sleep 0.1
  done
  return 1
}
stop_tracer() { kill -INT $TRACER; wait $TRACER 2>/dev/null; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "overhead: $PAIRS A/B pairs per mode, ${SECONDS_PER_RUN}s each, UDP 64 B, $(nproc) CPUs, kernel $(uname -r)," \
  "$([ -n "$KPROBES" ] && echo "kprobes on $KPROBE_HOPS" || echo "tracepoint hops")"
printf "%-5s %-9s %-17s %-12s %-12s %s\n" mode "ratio" "min-max" "traced/s" "untraced/s" "BPF ns/run (kernel)"
declare -A MEDIAN_TRACED MEDIAN_UNTRACED
MODES="S3 S1 S2 S2s"
if command -v bpftrace >/dev/null; then
  if [ -n "$KPROBES" ]; then
    # bpftrace's side of K1: the same six kprobes, the same port filter (the
    # first argument is the skb on each), on a kernel with headers or BTF.
    { echo 'BEGIN { printf("watching kprobes for port 1\n"); }'
      echo "kprobe:${KPROBE_HOPS//,/,kprobe:}"
      echo '{ $skb = (struct sk_buff *)arg0; $ip = (struct iphdr *)($skb->head + $skb->network_header);'
      echo '  if ($skb->protocol == 0x0008 && ($ip->protocol == 17 || $ip->protocol == 6)) {'
      echo '    $l4 = (struct udphdr *)($skb->head + $skb->network_header + ($ip->ihl << 2));'
      echo '    if ($l4->dest == 0x0100 || $l4->source == 0x0100) { printf("%s\n", probe); } } }'
    } > "$WORK/kprobes_port1.bt"
    MODES="$MODES K1 BK1"
  elif [ -e /sys/kernel/btf/vmlinux ]; then
    MODES="$MODES D1 B1"
  fi
fi
for mode in $MODES; do
  MODE=$mode
  : > "$WORK/ratios"; : > "$WORK/traced"; : > "$WORK/untraced"; : > "$WORK/stats"
  for pair in $(seq "$PAIRS"); do
    if [ $((pair % 2)) = 1 ]; then
      u=$(measure); start_tracer $mode || exit 1; t=$(measure); stop_tracer
    else
      start_tracer $mode || exit 1; t=$(measure); stop_tracer; u=$(measure)
    fi
    grep "bpf-stats" "$WORK/$mode.err" >> "$WORK/stats"
    echo "$t" >> "$WORK/traced"; echo "$u" >> "$WORK/untraced"
    awk -v t="$t" -v u="$u" 'BEGIN {printf "%.4f\n", t / u}' >> "$WORK/ratios"
  done
  MEDIAN_TRACED[$mode]=$(median < "$WORK/traced")
  MEDIAN_UNTRACED[$mode]=$(median < "$WORK/untraced")
  # ns per run: runs-weighted over every program and pair.
  ns=$(awk '{for (i=1;i<=NF;i++) {if ($i=="runs") r=$(i+1); if ($i=="ns/run") n=$(i-1)} R+=r; T+=r*n} END {if (R) printf "%.0f (%d runs)", T/R, R; else print "-"}' "$WORK/stats")
  printf "%-5s %-9s %-17s %-12s %-12s %s\n" "$mode" "$(median < "$WORK/ratios")" \
    "$(sort -g "$WORK/ratios" | head -1)-$(sort -g "$WORK/ratios" | tail -1)" \
    "${MEDIAN_TRACED[$mode]}" "${MEDIAN_UNTRACED[$mode]}" "$ns"
done
for pair in "D1 B1" "K1 BK1"; do
  set -- $pair
  [ -n "${MEDIAN_TRACED[$1]:-}" ] && [ -n "${MEDIAN_TRACED[$2]:-}" ] || continue
  awk -v a="${MEDIAN_TRACED[$1]}" -v au="${MEDIAN_UNTRACED[$1]}" -v b="${MEDIAN_TRACED[$2]}" -v bu="${MEDIAN_UNTRACED[$2]}" \
    -v n1="$1" -v n2="$2" 'BEGIN { printf "%s vs %s: skbtrail keeps %.3f of the untraced rate, bpftrace %.3f (goal: skbtrail >= bpftrace)\n", n1, n2, a / au, b / bu }'
done
awk -v s0="${MEDIAN_UNTRACED[S1]}" -v s1="${MEDIAN_TRACED[S1]}" -v s0b="${MEDIAN_UNTRACED[S3]}" -v s3="${MEDIAN_TRACED[S3]}" \
  'BEGIN { d3 = s0b - s3; printf "(S0-S1)/(S0-S3) = %s (S1 cost over the dispatch floor; goal <= 1.25)\n", (d3 > 0) ? sprintf("%.2f", (s0 - s1) / d3) : "n/a (S3 costs nothing measurable)" }'
