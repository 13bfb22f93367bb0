#!/bin/bash
# Two runs of one command on the same hooks with different port filters,
# traffic to both ports, then the first run stops and the second still
# works. Prints each run's output under a header. Usage:
#   two_instances.sh NETNS SKBTRAIL COMMAND PORT_OPTION [OPTION...]   (e.g. ns1 skbtrail rst --sport --json)
ns=$1 skbtrail=$2 command=$3 port_option=$4 work=${WORK:-/tmp}
shift 4
connect() { ip netns exec "$ns" timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null || true; }
ip netns exec "$ns" "$skbtrail" "$command" "$port_option" 80 "$@" >"$work/a.out" 2>"$work/a.err" &
a=$!
ip netns exec "$ns" "$skbtrail" "$command" "$port_option" 81 "$@" >"$work/b.out" 2>"$work/b.err" &
b=$!
for _ in $(seq 900); do
  grep -q "Ctrl-C to stop" "$work/a.err" && grep -q "Ctrl-C to stop" "$work/b.err" && break
  sleep 1
done
connect 80; connect 81; sleep 1
kill -INT $a; wait $a; echo "first exited $?"
connect 81; sleep 1
kill -INT $b; wait $b; echo "second exited $?"
echo "== first (port 80)"; cat "$work/a.out"
echo "== second (port 81)"; cat "$work/b.out"
echo "== end"
