// What the running kernel offers to a BCC-based tracer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "runner/common/version.h"

namespace skbtrail {

struct BpfPermission {
  bool allowed = false;
  std::string detail;  // errno text when refused
};

struct KernelInfo {
  std::string release;
  uint32_t version_code = 0;
  std::filesystem::path btf_path;  // empty when the kernel has no BTF
  std::filesystem::path headers_dir;  // /lib/modules/<rel>/build when usable, else empty
  bool has_kprobes = false;
  std::string kprobe_mechanism;  // "kprobe PMU", "kprobe_events" or empty
  std::filesystem::path tracefs;  // where events/ lives, empty when unavailable
  std::string tracefs_note;       // e.g. "mounted by skbtrail"
  bool kallsyms_readable = false;
  bool has_kernel_config = false;  // /proc/config.gz
  BpfPermission bpf;

  bool has_btf() const { return !btf_path.empty(); }
  bool has_headers() const { return !headers_dir.empty(); }
  bool has_tracepoint(std::string_view category, std::string_view name) const;
  std::filesystem::path tracepoint_format(std::string_view category, std::string_view name) const;
};

struct ProbeKernelOptions {
  bool mount_tracefs = true;  // mount tracefs when it is missing (needs root)
  bool check_bpf = true;      // try a tiny bpf() call
};

KernelInfo probe_kernel(const ProbeKernelOptions& options = {});

// The GNU build id in an ELF notes blob (/sys/kernel/notes), as hex; "" when none.
std::string build_id_from_notes(std::string_view notes);
// The running kernel's build id: one string that names its build.
std::string running_build_id();

// Headers usable by BCC: a tree with include/linux/ (or a build/ + source/
// pair as /lib/modules/<rel>/ has).
bool looks_like_kernel_headers(const std::filesystem::path& dir);

}  // namespace skbtrail
