#!/usr/bin/env bash
# The main job, with nothing to think about: installs what skbtrail needs,
# builds it, then hunts real packet drops in a private network namespace and
# shows where and why the kernel dropped each packet.
#
#   sudo bash tools/demo.sh
#
# Inside the namespace it provokes three drops the kernel explains itself:
#   - a TCP connect to a closed port         -> NO_SOCKET at tcp_v4_rcv
#   - a UDP datagram to a closed port        -> NO_SOCKET at __udp4_lib_rcv
#   - a TCP connect an iptables rule drops   -> NETFILTER_DROP (nft_do_chain or nf_hook_slow)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${SKBTRAIL_BUILD_DIR:-$here/build}

bash "$here/tools/setup.sh"
cmake -S "$here" -B "$build" >/dev/null
cmake --build "$build" --target skbtrail -j"$(nproc)" >/dev/null
skbtrail="$build/runner/skbtrail"

ns=skbtrail-demo-$$
log=$(mktemp)
cleanup() {
  [ -n "${tracer:-}" ] && kill -INT "$tracer" 2>/dev/null && wait "$tracer" 2>/dev/null
  ip netns del "$ns" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" iptables -A INPUT -p tcp --dport 8081 -j DROP
netns_inode=$(stat -L -c %i "/run/netns/$ns")

echo "== skbtrail drop -N $netns_inode   (netns $ns)"
"$skbtrail" drop -N "$netns_inode" --duration 15s 2>"$log" &
tracer=$!
for _ in $(seq 1 300); do grep -q attached "$log" && break; kill -0 "$tracer" 2>/dev/null || break; sleep 0.1; done
if ! grep -q attached "$log"; then cat "$log" >&2; exit 1; fi
cat "$log" >&2

ip netns exec "$ns" bash -c '
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/9" 2>/dev/null || true
  echo hello > /dev/udp/127.0.0.1/53 || true
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/8081" 2>/dev/null || true
'
sleep 1
kill -INT "$tracer"
wait "$tracer" || true
tracer=
