#!/usr/bin/env bash
# The Debian package as a user gets it: built with cpack from BUILD, installed
# with apt-get (apt resolves its Depends, which dpkg-shlibdeps wrote),
# `skbtrail doctor` run from /usr/bin, its manual pages read with man, its
# bash completion loaded; then removed, leaving nothing behind.
#   tests/package/deb.sh BUILD
# A skbtrail package that was installed before is left alone (skipped).
set -euo pipefail
build=$(readlink -f "$1")
failed=0
check() {  # WHAT COMMAND...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "PASS  $what"; else echo "FAIL  $what"; failed=1; fi
}
if dpkg-query -W -f='${Status}' skbtrail 2>/dev/null | grep -q "install ok installed"; then
  echo "SKIP  the .deb: a skbtrail package is already installed here (not touched)"
  exit 0
fi
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/skbtrail_*_amd64.deb)
echo "=== $(basename "$deb"): $(du -h "$deb" | cut -f1); Depends: $(dpkg-deb -f "$deb" Depends)"
trap 'apt-get remove -y -qq skbtrail >/dev/null 2>&1 || true' EXIT
export DEBIAN_FRONTEND=noninteractive
check "apt-get install ./$(basename "$deb")" apt-get install -y -qq "$deb"
check "/usr/bin/skbtrail doctor: drop ready" bash -c '/usr/bin/skbtrail doctor | grep -Eq "^drop +ready"'
check "its LLVM plugin is found from /usr/bin (doctor compiled)" bash -c '/usr/bin/skbtrail doctor | grep -Eq "^compile drop.bpf.c +ok"'
check "man skbtrail-drop" bash -c 'man -P cat skbtrail-drop 2>/dev/null | grep -q "watch packet drops"'
check "man skbtrail lists the commands" bash -c 'man -P cat skbtrail 2>/dev/null | grep -q "skbtrail-trace(8)"'
check "bash completion of a command" bash -c \
  '. /usr/share/bash-completion/completions/skbtrail; COMP_WORDS=(skbtrail dro); COMP_CWORD=1; _skbtrail; [ "${COMPREPLY[*]}" = drop ]'
check "bash completion of a profile" bash -c \
  '. /usr/share/bash-completion/completions/skbtrail; COMP_WORDS=(skbtrail run ipt); COMP_CWORD=2; _skbtrail; [ "${COMPREPLY[*]}" = iptables ]'
apt-get remove -y -qq skbtrail >/dev/null
check "removed: no /usr/bin/skbtrail" test ! -e /usr/bin/skbtrail
check "removed: no manual pages" test ! -e /usr/share/man/man8/skbtrail-drop.8.gz
exit "$failed"
