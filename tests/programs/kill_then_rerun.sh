#!/bin/bash
# A run killed with SIGKILL while its kprobes are attached, then a new run:
# prints how many kprobe_events entries the killed run left, the new run's
# output, and how many are left after it. Usage: kill_then_rerun.sh SKBTRAIL PROGRAM.c
skbtrail=$1 program=$2 work=${WORK:-/tmp}
events=
for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
  [ -r "$t/kprobe_events" ] && { events=$t/kprobe_events; break; }
done
[ -n "$events" ] || { echo "no kprobe_events"; exit 1; }
"$skbtrail" exec "$program" >"$work/first.log" 2>&1 &
pid=$!
for _ in $(seq 900); do
  grep -q "attached" "$work/first.log" && break
  kill -0 $pid 2>/dev/null || { echo "first run ended:"; cat "$work/first.log"; exit 1; }
  sleep 1
done
kill -KILL $pid
wait $pid 2>/dev/null
echo "left by the killed run: $(grep -c "_bcc_$pid " "$events")"
"$skbtrail" exec "$program" --duration 1s 2>&1
echo "left after the next run: $(grep -c "_bcc_$pid " "$events")"
