#!/usr/bin/env bash
# The one-file skbtrail on bare legacy systems: each KERNEL (tools/vm
# --kernel) boots with no host root, its initramfs holding only busybox,
# the one file as /usr/bin/skbtrail and that kernel's header tree as
# /lib/modules/REL/build. There skbtrail must unpack itself, compile against
# those headers, and run doctor, drop (a closed-port connect) and rst (the
# no-listener RST it answers).
#
#   tests/onefile/bare_vm.sh ONEFILE KERNEL...
# Exit: 0 when every kernel passes, 1 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
onefile=$(readlink -f "$1")
shift
failed=0
for kernel in "$@"; do
  start=$SECONDS
  release=$("$here/tools/vm" --kernel "$kernel" --describe | sed -n 's/^release=//p')
  headers=$("$here/tools/vm" --kernel "$kernel" --describe | sed -n 's/^headers=//p')
  stage=$(mktemp -d)
  log=$(mktemp)
  mkdir -p "$stage/usr/bin" "$stage/lib/modules/$release"
  cp "$onefile" "$stage/usr/bin/skbtrail"
  cp -rL "$headers" "$stage/lib/modules/$release/build"
  cat > "$stage/test.sh" <<'TEST'
# Runs CMD in the background into FILE, waits for its attach banner, then
# knocks three times on closed port 9 (each SYN is dropped and answered
# with a RST) and waits for CMD to end.
watch() {
  file=$1
  shift
  "$@" > "$file" 2>&1 &
  pid=$!
  n=0
  while ! grep -q 'Ctrl-C to stop' "$file" && kill -0 $pid 2>/dev/null && [ $n -lt 900 ]; do sleep 1; n=$((n + 1)); done
  for i in 1 2 3; do timeout 2 nc 127.0.0.1 9 < /dev/null > /dev/null 2>&1; sleep 0.2; done
  wait $pid
  echo "== exit $?"
  cat "$file"
}
echo "== doctor"
skbtrail doctor
echo "== exit $?"
echo "== drop"
watch /tmp/drop.out skbtrail drop --dport 9 -c 1 --json
echo "== rst"
watch /tmp/rst.out skbtrail rst --sport 9 -c 1 --json
echo "== root"
ls /usr/lib 2>&1
exit 0
TEST
  echo "=== one file on bare $release ==="
  if ! "$here/tools/vm" --kernel "$kernel" --bare "$stage" --timeout 1800 -- sh /test.sh > "$log" 2>&1; then
    echo "FAIL  the bare VM did not run the test (tools/vm: see below)"
    failed=1
  fi
  check() {  # WHAT REGEX
    if grep -Eq -- "$2" "$log"; then echo "PASS  $1"; else echo "FAIL  $1 (no match for: $2)"; failed=1; fi
  }
  check "doctor exits 0 and drop is ready" '^drop +ready'
  check "doctor compiled drop.bpf.c against the kernel's headers" 'compile drop.bpf.c +ok +[0-9.]+ s in header mode headers'
  check "drop caught the closed-port SYN" '"dport":9,"tcp_flags":"SYN",("pseudo_reason"|"reason"):"NO_SOCKET"'
  check "rst classified the no-listener RST" '"rule":"no-listener"'
  check "nothing was there but busybox, the file and the headers" 'ls: /usr/lib: No such file or directory'
  echo "=== one file on bare $release: $((SECONDS - start)) s ==="
  [ "$failed" = 0 ] || sed 's/^/    | /' "$log" | tail -80
  rm -rf "$stage" "$log"
done
exit "$failed"
