#!/usr/bin/env bash
# Builds the one-file skbtrail for old systems: skbtrail-<version>-x86_64, a
# small static launcher (packaging/launcher.c) followed by the whole dynamic
# build (skbtrail, libskbtrail-llvm.so with BCC and LLVM, every shared
# library both load, and the dynamic loader they were built with) as a
# gzip'd tar. Copying it and the kernel's headers is the whole installation;
# nothing is taken from the target's /usr/lib.
#
#   tools/release.sh [--build-dir DIR] [-o FILE]
#
# Why not one static binary: Debian's libbcc.a has no compiler in it (its
# clang frontend and C++ API are only in libbcc.so), and its static LLVM
# needs libz3, which Debian ships shared only; see docs/install.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build-release
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "release.sh: unknown option '$1' (see tools/release.sh --help)" >&2; exit 2 ;;
  esac
done

# A new build directory is configured for a release; an existing one (the
# test build, say) is used as it is.
[ -f "$build/CMakeCache.txt" ] || cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSKBTRAIL_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target skbtrail skbtrail-llvm >/dev/null
version=$("$build/runner/skbtrail" --version | awk '{print $NF}')
[ -n "$out" ] || out=$here/skbtrail-$version-x86_64

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
mkdir -p "$stage"
cp "$build/runner/skbtrail" "$build/runner/libskbtrail-llvm.so" "$stage/"
strip --strip-unneeded "$stage/skbtrail" "$stage/libskbtrail-llvm.so"
# Every library the two load, as the loader resolves them here, under the
# names they are asked for; and the loader itself.
ldd "$stage/skbtrail" "$stage/libskbtrail-llvm.so" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' |
  sort -u | while read -r lib; do cp -L "$lib" "$stage/$(basename "$lib")"; done
[ -f "$stage/ld-linux-x86-64.so.2" ] || { echo "release.sh: no ld-linux-x86-64.so.2 among the libraries" >&2; exit 1; }
(cd "$stage" && tar --format=ustar --owner=0 --group=0 -cf - -- *) | gzip -6 > "$work/payload"

cc -O2 -static -o "$work/launcher" "$here/packaging/launcher.c" -lz
id=$(sha256sum "$work/payload" | cut -c1-32)
le64() { local v=$1 i; for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(((v >> (8 * i)) & 255)))"; done; }
offset=$(stat -c %s "$work/launcher")
size=$(stat -c %s "$work/payload")
{
  cat "$work/launcher" "$work/payload"
  printf 'skbtrail-payload'
  le64 "$offset"
  le64 "$size"
  printf '%s' "$id"
} > "$out.tmp"
chmod 755 "$out.tmp"
mv "$out.tmp" "$out"
echo "release.sh: wrote $out ($(du -h "$out" | cut -f1), payload $id: $(ls "$stage" | wc -l) files, $(du -sh "$stage" | cut -f1) unpacked)"
