#!/bin/bash
# A run signalled at one stage, then what it left: prints the run's exit
# code, its last stderr lines, and how many kprobe_events entries and
# events/kprobes directories of its pid remain (before 4.17 BCC's kprobes
# live there; from 4.17 the perf kprobe PMU leaves nothing to look at).
# Usage: signal_during.sh compile|attach|pipe SKBTRAIL COMMAND [ARGS]
#   compile  SIGTERM while the program compiles (no cache, no bundle)
#   attach   SIGTERM halfway through attaching the probes
#   pipe     SIGTERM while stdout is a pipe whose reader stopped reading
#            (COMMAND should see UDP to 127.0.0.1:9999)
# The command line is the scenario's, so the driver bundles its program.
stage=$1 skbtrail=$2 work=${WORK:-/tmp}
shift 2
tracefs=
for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
  [ -e "$t/events" ] && { tracefs=$t; break; }
done
entries() {  # kprobe_events entries of PID
  local n
  n=$(grep -c "_bcc_$1" "$tracefs/kprobe_events" 2>/dev/null)
  echo "${n:-0}"
}
wait_for() {  # wait_for TEXT FILE PID: until FILE has TEXT (or PID ended)
  for _ in $(seq 1200); do
    grep -q "$1" "$2" && return 0
    kill -0 "$3" 2>/dev/null || { echo "the run ended before '$1':"; cat "$2"; return 1; }
    sleep 0.1
  done
  echo "no '$1' in 120 s"; return 1
}
case $stage in
  compile)
    env -u SKBTRAIL_BUNDLES "$skbtrail" "$@" --no-cache -v >/dev/null 2>"$work/err" &
    pid=$!
    wait_for "compiling" "$work/err" $pid || exit 1
    sleep 2
    ;;
  attach)
    SKBTRAIL_ATTACH_PAUSE_MS=300 "$skbtrail" "$@" -v >/dev/null 2>"$work/err" &
    pid=$!
    wait_for "attaching" "$work/err" $pid || exit 1
    sleep 3
    echo "attached when signalled: $(entries $pid) kprobe_events entries"
    ;;
  pipe)
    rm -f "$work/fifo"; mkfifo "$work/fifo"
    sleep 600 <"$work/fifo" &  # opens the pipe and never reads it
    reader=$!
    "$skbtrail" "$@" >"$work/fifo" 2>"$work/err" &
    pid=$!
    wait_for "Ctrl-C to stop" "$work/err" $pid || exit 1
    for _ in $(seq 2000); do echo x >/dev/udp/127.0.0.1/9999; done  # far more than a pipe holds
    sleep 2
    ;;
esac
kill -TERM $pid
for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then echo "still running 30 s after SIGTERM"; kill -KILL $pid; fi
wait $pid
echo "exit=$?"
[ -n "${reader:-}" ] && kill $reader 2>/dev/null
tail -n 3 "$work/err"
echo "kprobe_events entries left: $(entries $pid)"
echo "events/kprobes left: $(ls -d "$tracefs"/events/kprobes/*_bcc_$pid 2>/dev/null | wc -l)"
