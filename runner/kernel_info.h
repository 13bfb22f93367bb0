// What the running kernel offers to a BCC-based tracer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace skbtrail {

// KERNEL_VERSION(a, b, c) as the kernel computes it (sublevel capped at 255).
constexpr uint32_t kernel_version(uint32_t major, uint32_t minor, uint32_t sublevel) {
  return (major << 16) + (minor << 8) + (sublevel > 255 ? 255 : sublevel);
}

// "6.18.44-fc-v769" -> KERNEL_VERSION(6, 18, 44); nullopt when unparsable.
std::optional<uint32_t> parse_version_code(std::string_view release);
std::string format_version_code(uint32_t code);  // "6.18.44"

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

// BPF abilities that came with a kernel version (an unknown version counts
// as new enough): stack maps (bpf_get_stackid) from 4.6, programs on
// tracepoints from 4.7. Older kernels get kprobe callers and kprobes instead.
bool has_bpf_stack_maps(const KernelInfo& kernel);
bool has_bpf_tracepoints(const KernelInfo& kernel);

// Throws EnvironmentError naming `option` when the kernel has no stack maps.
void require_bpf_stack_maps(const KernelInfo& kernel, std::string_view option);

// Headers usable by BCC: a tree with include/linux/ (or a build/ + source/
// pair as /lib/modules/<rel>/ has).
bool looks_like_kernel_headers(const std::filesystem::path& dir);

}  // namespace skbtrail
