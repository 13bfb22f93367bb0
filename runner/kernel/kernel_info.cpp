#include "runner/kernel/kernel_info.h"

#include <linux/bpf.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "runner/common/errors.h"

namespace skbtrail {

namespace fs = std::filesystem;

std::string build_id_from_notes(std::string_view notes) {
  size_t at = 0;
  while (at + 12 <= notes.size()) {
    uint32_t namesz, descsz, type;
    std::memcpy(&namesz, notes.data() + at, 4);
    std::memcpy(&descsz, notes.data() + at + 4, 4);
    std::memcpy(&type, notes.data() + at + 8, 4);
    const size_t name = at + 12;
    const size_t desc = name + ((namesz + 3) & ~3u);
    const size_t next = desc + ((descsz + 3) & ~3u);
    if (next > notes.size()) break;
    if (type == 3 && namesz == 4 && std::memcmp(notes.data() + name, "GNU", 4) == 0) {
      std::string hex;
      for (size_t i = 0; i < descsz; ++i) hex += fmt::format("{:02x}", static_cast<uint8_t>(notes[desc + i]));
      return hex;
    }
    at = next;
  }
  return {};
}

std::string running_build_id() {
  std::ifstream in("/sys/kernel/notes", std::ios::binary);
  return build_id_from_notes(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

bool looks_like_kernel_headers(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir / "include/linux", ec)) return true;
  // /lib/modules/<rel>/ style: build/ has the generated files, source/ the rest.
  return fs::is_directory(dir / "build", ec) && fs::is_directory(dir / "source/include/linux", ec);
}

bool KernelInfo::has_tracepoint(std::string_view category, std::string_view name) const {
  std::error_code ec;
  return !tracefs.empty() && fs::exists(tracepoint_format(category, name), ec);
}

fs::path KernelInfo::tracepoint_format(std::string_view category, std::string_view name) const {
  return tracefs / "events" / category / name / "format";
}

namespace {

std::string running_release() {
  utsname uts{};
  if (uname(&uts) != 0) return {};
  return uts.release;
}

// Headers for the running release: Debian splits them into build/ (arch,
// generated) and source/ (common); either layout is accepted.
fs::path find_running_headers(const std::string& release) {
  const fs::path modules = fs::path("/lib/modules") / release;
  std::error_code ec;
  const fs::path build = modules / "build";
  if (fs::is_directory(build / "include", ec) &&
      (fs::is_directory(build / "include/linux", ec) || fs::is_directory(modules / "source/include/linux", ec)))
    return build;
  const fs::path source = modules / "source";
  if (fs::is_directory(source / "include/linux", ec)) return source;
  return {};
}

// tracefs lives at /sys/kernel/tracing (4.1+) or under debugfs on older
// kernels. Mounting it is what `mount -t tracefs` would do by hand.
fs::path find_tracefs(bool mount_if_missing, std::string& note) {
  std::error_code ec;
  for (const char* candidate : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"})
    if (fs::is_directory(fs::path(candidate) / "events", ec)) return candidate;
  if (!mount_if_missing) {
    note = "not mounted";
    return {};
  }
  if (fs::is_directory("/sys/kernel/tracing", ec) &&
      ::mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0) {
    note = "mounted by skbtrail";
    return "/sys/kernel/tracing";
  }
  const int tracefs_errno = errno;
  if (fs::is_directory("/sys/kernel/debug", ec) &&
      ::mount("nodev", "/sys/kernel/debug", "debugfs", 0, nullptr) == 0 &&
      fs::is_directory("/sys/kernel/debug/tracing/events", ec)) {
    note = "debugfs mounted by skbtrail";
    return "/sys/kernel/debug/tracing";
  }
  note = fmt::format("not mounted, and mounting it failed: {}", std::strerror(tracefs_errno));
  return {};
}

// Non-root readers see zeroed addresses (kptr_restrict), which would turn
// every location into "0x0".
bool kallsyms_has_addresses() {
  std::ifstream in("/proc/kallsyms");
  std::string addr, type, name;
  for (int i = 0; i < 64 && (in >> addr >> type >> name); ++i) {
    in.ignore(4096, '\n');
    if (addr.find_first_not_of('0') != std::string::npos) return true;
  }
  return false;
}

BpfPermission check_bpf_permission() {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  const long fd = ::syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
    return {true, {}};
  }
  return {false, std::strerror(errno)};
}

}  // namespace

int rhel_major_of_release(std::string_view release) {
  // Red Hat's kernels say ".el7" (also ".el7_9" for z-stream updates).
  for (size_t at = release.find(".el"); at != std::string_view::npos; at = release.find(".el", at + 1)) {
    int major = 0;
    const char* begin = release.data() + at + 3;
    const auto [end, ec] = std::from_chars(begin, release.data() + release.size(), major);
    if (ec == std::errc() && end != begin && major > 0) return major;
  }
  return 0;
}

KernelInfo probe_kernel(const ProbeKernelOptions& options) {
  KernelInfo info;
  info.release = running_release();
  info.version_code = parse_version_code(info.release).value_or(0);
  info.rhel_major = rhel_major_of_release(info.release);
  std::error_code ec;
  if (fs::exists("/sys/kernel/btf/vmlinux", ec)) info.btf_path = "/sys/kernel/btf/vmlinux";
  info.headers_dir = find_running_headers(info.release);
  info.tracefs = find_tracefs(options.mount_tracefs, info.tracefs_note);
  if (fs::exists("/sys/bus/event_source/devices/kprobe", ec)) {
    info.has_kprobes = true;
    info.kprobe_mechanism = "kprobe PMU";
  } else if (!info.tracefs.empty() && fs::exists(info.tracefs / "kprobe_events", ec)) {
    info.has_kprobes = true;
    info.kprobe_mechanism = "kprobe_events";
  }
  info.kallsyms_readable = kallsyms_has_addresses();
  info.has_kernel_config = fs::exists("/proc/config.gz", ec);
  if (options.check_bpf) {
    info.bpf = check_bpf_permission();
    if (info.bpf.allowed) info.features = probe_bpf_features();
  }
  return info;
}

}  // namespace skbtrail
