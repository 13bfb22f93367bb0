// What the running kernel offers to a BCC-based tracer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "runner/common/version.h"
#include "runner/kernel/bpf_features.h"

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
  // Red Hat's major release (7 for RHEL/CentOS 7's 3.10.0-*.el7), 0 for
  // other kernels: its backports decide ABI branches (runner/kernel/abi.h).
  int rhel_major = 0;
  BpfPermission bpf;
  BpfFeatures features;  // probed when bpf() is allowed
  // Argument counts of probed functions whose signatures changed, as
  // measured where the program was compiled (a bundle carries them);
  // empty: measure (runner/kernel/signatures.h).
  std::map<std::string, int> function_arity;

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

// The RHEL major release a kernel release string names ("3.10.0-1160.el7.x86_64"
// -> 7), 0 when it is not Red Hat's.
int rhel_major_of_release(std::string_view release);

// The GNU build id in an ELF notes blob (/sys/kernel/notes), as hex; "" when none.
std::string build_id_from_notes(std::string_view notes);
// The running kernel's build id: one string that names its build.
std::string running_build_id();

// Headers usable by BCC: a tree with include/linux/ (or a build/ + source/
// pair as /lib/modules/<rel>/ has).
bool looks_like_kernel_headers(const std::filesystem::path& dir);

}  // namespace skbtrail
