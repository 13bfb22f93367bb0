#!/usr/bin/env bash
# Downloads (never installs) a Debian kernel and its headers and unpacks them
# into a kernel directory that tools/vm boots, then prints that directory.
#
#   tools/fetch-debian-kernel.sh SUITE [--dest DIR] [--refresh]
#     SUITE      bullseye (Debian 11, 5.10) or trixie (Debian 13, 6.12)
#     --dest     where kernel directories live
#                (default: ${SKBTRAIL_KERNEL_CACHE:-/var/cache/skbtrail-kernels})
#     --refresh  ask the package index for a newer ABI even when one is there
#                (an older release it replaces stays; delete it by hand)
#
# Layout: DEST/<release>/{vmlinuz, modules/, build/, linux-headers-*-common/,
# release, suite, packages, .complete}. modules/ is what the package puts in
# /lib/modules/<release> (modules.dep generated), modules/{build,source} and
# build/Makefile point into this directory, not /usr/src.
# Only the directory's path goes to stdout; progress goes to stderr.
# Exit: 0 ok; 1 download or unpack failure; 2 bad usage or not root.
set -euo pipefail

prog=fetch-debian-kernel.sh
die() { echo "$prog: $1" >&2; exit "${2:-1}"; }
say() { echo "$prog: $*" >&2; }
# apt's first complaint in LOG, for a one-line error message.
apt_error() { grep -m 1 -E '^(E|W): ' "$1" | sed -e 's/^[EW]: //' -e 's/[[:space:]]\+/ /g' || echo "see apt-get's output"; }

suite=
dest=${SKBTRAIL_KERNEL_CACHE:-/var/cache/skbtrail-kernels}
refresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) [ $# -ge 2 ] || die "--dest needs a directory" 2; dest=$2; shift 2 ;;
    --refresh) refresh=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) die "unknown option '$1' (see $prog --help)" 2 ;;
    *) [ -z "$suite" ] || die "one SUITE only (got '$suite' and '$1')" 2; suite=$1; shift ;;
  esac
done

# The package names differ per suite; the ABI number is read from the index.
# Only the generic amd64 flavour: -cloud- has no 9p, -rt- is another kernel.
case "$suite" in
  bullseye) image_re='^linux-image-5\.10\.0-[0-9]+-amd64(-unsigned)?$' ;;
  trixie)   image_re='^linux-image-6\.12\.[0-9]+\+deb13-amd64(-unsigned)?$' ;;
  '') die "no SUITE given (bullseye or trixie)" 2 ;;
  *) die "unknown suite '$suite' (use bullseye or trixie)" 2 ;;
esac
[ "$(id -u)" -eq 0 ] || die "must run as root (it writes $dest and runs apt-get/depmod); try: sudo $0 $suite" 2
for tool in apt-get apt-cache dpkg-deb depmod flock; do
  command -v "$tool" >/dev/null || die "$tool missing (apt-get install apt dpkg kmod util-linux)" 2
done
case "$dest" in /*) ;; *) dest=$PWD/$dest ;; esac   # paths written into the tree must be absolute
mkdir -p "$dest" || die "cannot create $dest (pass --dest DIR)" 2

# The newest complete kernel directory of this suite, if any.
cached() {
  local d best=
  for d in "$dest"/*/; do
    d=${d%/}
    [ -f "$d/.complete" ] && [ "$(cat "$d/suite" 2>/dev/null)" = "$suite" ] || continue
    best=$(printf '%s\n%s\n' "$best" "$(basename "$d")" | sed '/^$/d' | sort -V | tail -n 1)
  done
  [ -n "$best" ] && echo "$dest/$best"
}

# Fast path: no network when the cache already holds this suite.
if [ $refresh = 0 ] && have=$(cached); then echo "$have"; exit 0; fi

# One run per suite at a time, so stale temp dirs can be removed safely.
exec 9>"$dest/.lock-$suite"
flock 9
rm -rf "$dest/.tmp-$suite".*
tmp=$(mktemp -d "$dest/.tmp-$suite.XXXXXX")   # same filesystem: the final mv is a rename
trap 'rm -rf "$tmp"' EXIT

# --- a private apt: its own sources, lists, cache and status file ------------
# APT_CONFIG replaces /etc/apt/apt.conf, and Dir::Etc::Parts keeps the host's
# apt.conf.d out (its update hooks touch the host's caches). The signed-by
# keyring is the only trust anchor: Debian 12's debian-archive-keyring carries
# the bullseye and trixie archive and security keys, so no extra key is needed.
apt=$tmp/apt
mkdir -p "$apt"/{lists/partial,cache/archives/partial,empty,state} "$tmp/debs"
: > "$apt/state/status"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring missing (apt-get install debian-archive-keyring)" 2
cat > "$apt/sources.list" <<EOF
deb [arch=amd64 signed-by=$keyring] http://deb.debian.org/debian $suite main
deb [arch=amd64 signed-by=$keyring] http://deb.debian.org/debian-security $suite-security main
EOF
{
  echo "Dir::Etc::Main \"/dev/null\";"
  echo "Dir::Etc::Parts \"$apt/empty\";"
  echo "Dir::Etc::SourceList \"$apt/sources.list\";"
  echo "Dir::Etc::SourceParts \"$apt/empty\";"
  echo "Dir::Etc::Preferences \"/dev/null\";"
  echo "Dir::Etc::PreferencesParts \"$apt/empty\";"
  echo "Dir::Etc::Trusted \"/dev/null\";"
  echo "Dir::Etc::TrustedParts \"$apt/empty\";"
  echo "Dir::State \"$apt/state\";"
  echo "Dir::State::Lists \"$apt/lists\";"
  echo "Dir::State::status \"$apt/state/status\";"
  echo "Dir::Cache \"$apt/cache\";"
  echo "APT::Architecture \"amd64\";"
  echo "APT::Architectures { \"amd64\"; };"
  echo "Acquire::Languages \"none\";"
  # Keep the host's proxy, the one thing from its apt.conf.d worth having.
  apt-config dump 2>/dev/null | grep -E '^Acquire::(http|https)::Proxy ' || true
} > "$apt/apt.conf"
export APT_CONFIG=$apt/apt.conf
# apt fetches as _apt: it must be able to reach and write the download dir.
chmod 755 "$tmp" "$apt"
chown _apt "$tmp/debs" 2>/dev/null || true

say "reading the $suite package index from deb.debian.org"
if ! apt-get update -q >"$tmp/update.log" 2>&1 || grep -qE '^(E: |W: (Failed to fetch|Some index files|GPG error))' "$tmp/update.log"; then
  fix="check the network or the proxy, then run again"
  grep -q 'GPG error' "$tmp/update.log" && fix="the keyring lacks the $suite keys: apt-get install debian-archive-keyring (2023.3+deb12u2 or later carries the trixie keys)"
  die "cannot read the $suite index from deb.debian.org ($(apt_error "$tmp/update.log")): $fix" 1
fi

# The newest ABI that has an image and both header packages.
names=$(apt-cache pkgnames linux- 2>/dev/null | sort -u)
release='' image=''
for rel in $(grep -E "$image_re" <<<"$names" | sed -e 's/^linux-image-//' -e 's/-unsigned$//' | sort -Vru); do
  common=${rel%-amd64}-common
  grep -qx "linux-headers-$rel" <<<"$names" && grep -qx "linux-headers-$common" <<<"$names" || continue
  # Either image works under QEMU; the unsigned one is the plain build.
  if grep -qx "linux-image-$rel-unsigned" <<<"$names"; then image=linux-image-$rel-unsigned
  else image=linux-image-$rel; fi
  release=$rel
  break
done
[ -n "$release" ] || die "no linux-image + linux-headers set matching $image_re in the $suite index" 1
headers=linux-headers-$release
common=linux-headers-${release%-amd64}-common
out_final=$dest/$release

if [ -f "$out_final/.complete" ]; then
  say "$release is already the newest $suite kernel"
  echo "$out_final"
  exit 0
fi

say "downloading $image $headers $common"
if ! (cd "$tmp/debs" && apt-get download -q "$image" "$headers" "$common") >"$tmp/download.log" 2>&1; then
  die "apt-get download of $release failed ($(apt_error "$tmp/download.log")): check the network, then run again with --refresh" 1
fi

# --- unpack ------------------------------------------------------------------
say "unpacking $release"
root=$tmp/root out=$tmp/out
mkdir -p "$root" "$out"
packages=
for deb in "$tmp"/debs/*.deb; do
  dpkg-deb -x "$deb" "$root" || die "cannot unpack $(basename "$deb") (disk full?)" 1
  packages+="$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)"$'\n'
done

[ -f "$root/boot/vmlinuz-$release" ] || die "$image holds no /boot/vmlinuz-$release" 1
mv "$root/boot/vmlinuz-$release" "$out/vmlinuz"

# Packages of a merged-/usr suite may ship usr/lib/modules instead of lib/modules.
moddir=
for d in "$root/lib/modules/$release" "$root/usr/lib/modules/$release"; do
  [ -d "$d/kernel" ] && moddir=$d && break
done
[ -n "$moddir" ] || die "$image holds no /lib/modules/$release/kernel" 1
# depmod -b wants BASE/lib/modules/REL; the index holds paths relative to it.
mkdir -p "$tmp/depmod/lib/modules"
mv "$moddir" "$tmp/depmod/lib/modules/$release"
rm -f "$tmp/depmod/lib/modules/$release"/{build,source}
depmod -b "$tmp/depmod" "$release" || die "depmod failed for $release" 1
mv "$tmp/depmod/lib/modules/$release" "$out/modules"

[ -d "$root/usr/src/$headers" ] && [ -d "$root/usr/src/$common" ] ||
  die "the header packages hold no /usr/src/$headers and /usr/src/$common" 1
mv "$root/usr/src/$headers" "$out/build"
mv "$root/usr/src/$common" "$out/$common"

# Point everything at the final location instead of /usr/src: the flavour
# Makefile includes the common tree's, BCC follows modules/{build,source}.
sed -i "s|^include /usr/src/$common/|include $out_final/$common/|" "$out/build/Makefile"
grep -q "^include $out_final/$common/Makefile" "$out/build/Makefile" ||
  die "$headers's Makefile does not include /usr/src/$common/Makefile as expected" 1
# scripts/ and tools/ point into linux-kbuild-*, which is not fetched (BCC
# reads headers only); dangling links would only trip up copies of the tree.
find "$out/build" "$out/$common" -maxdepth 1 -xtype l -delete
ln -sfn "$out_final/build" "$out/modules/build"
ln -sfn "$out_final/$common" "$out/modules/source"

echo "$release" > "$out/release"
echo "$suite" > "$out/suite"
printf '%s' "$packages" > "$out/packages"
touch "$out/.complete"   # last: a directory without it is never used

# An unfinished directory of that name (not ours, or older) gives way.
rm -rf "$out_final"
mv "$out" "$out_final"
say "$release ready ($(du -sh "$out_final" | cut -f1))"
echo "$out_final"
