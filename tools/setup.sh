#!/usr/bin/env bash
# Installs everything skbtrail needs to build, test and run its VM scenarios.
# Idempotent: packages already present are skipped, so a second run is quick.
#   tools/setup.sh           build + runtime + test dependencies
#   tools/setup.sh --vm      also the test VM (qemu, Debian kernel + headers),
#                            and Debian's 5.10 and 6.12 kernels unpacked into
#                            ${SKBTRAIL_KERNEL_CACHE:-/var/cache/skbtrail-kernels}
#                            for tools/vm --kernel (downloaded, never installed)
set -euo pipefail

want_vm=0
for arg in "$@"; do
  case "$arg" in
    --vm) want_vm=1 ;;
    *) echo "setup.sh: unknown option '$arg' (use --vm or nothing)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: must run as root (apt-get install); try: sudo $0 $*" >&2
  exit 2
fi

packages=(
  build-essential cmake pkg-config git
  libbpfcc-dev libbpf-dev libelf-dev zlib1g-dev
  libboost-program-options-dev libboost-dev
  libfmt-dev libgtest-dev googletest nlohmann-json3-dev
  libnftables-dev libiptc-dev nftables
  llvm-dev clang
  iproute2 iptables netcat-openbsd iputils-ping man-db
  tshark
)
if [ "$want_vm" -eq 1 ]; then
  packages+=(
    qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static
    hping3 iperf3 sockperf bpftrace cpio kmod file xz-utils
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup.sh: all ${#packages[@]} packages already installed"
else
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The VM's other kernels: quick when already fetched (no network then). A
# failed fetch fails setup; the script has said why on stderr.
if [ "$want_vm" -eq 1 ]; then
  for suite in bullseye trixie; do
    dir=$("$(dirname "$0")/fetch-debian-kernel.sh" "$suite") || exit $?
    echo "setup.sh: Debian $suite kernel in $dir"
  done
fi
echo "setup.sh: done"
