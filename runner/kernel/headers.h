// Which kernel headers BCC compiles against: the running kernel's, a tree
// generated from BTF, or a foreign tree the user points at.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "runner/kernel/kernel_info.h"

namespace skbtrail {

enum class HeaderMode { Auto, Headers, Btf };

struct HeaderOptions {
  HeaderMode mode = HeaderMode::Auto;
  std::filesystem::path kernel_headers;   // --kernel-headers DIR (foreign tree)
  std::string kernel_release;             // --kernel-release: what that tree is for
  std::optional<uint32_t> version_code;   // --kernel-version-code
  bool force = false;                     // --force-headers: accept a release mismatch
  std::filesystem::path cache_root;       // --cache-dir
};

struct HeaderChoice {
  std::string mode;                      // "headers", "btf" or "foreign"
  std::filesystem::path kernel_source;   // BCC_KERNEL_SOURCE; empty: BCC's default
  std::optional<uint32_t> version_code;  // BCC_LINUX_VERSION_CODE when overridden
  bool btf = false;                      // programs compile with -DSKBTRAIL_BTF
  // btf: whether the generated types include nftables' (nf_tables built in,
  // or its module loaded with BTF); headers always do.
  bool btf_has_nf_tables = false;
  std::string description;               // for doctor and --verbose
};

// Picks (and for btf, generates) the headers. Throws UsageError for bad
// options and EnvironmentError when nothing usable exists.
HeaderChoice choose_headers(const KernelInfo& kernel, const HeaderOptions& options);

// The release a header tree was built for, from include/config/kernel.release
// or include/generated/utsrelease.h; empty when the tree does not say.
std::string header_tree_release(const std::filesystem::path& dir);

// Whether a tree is Red Hat's (its version.h defines RHEL_MAJOR): RHEL 7's
// 3.10 has BPF kprobes, tracepoints and stack maps by backport.
bool header_tree_is_rhel(const std::filesystem::path& dir);

// Where a header tree's two halves are. Distributions split them: the
// flavour's build tree (generated files, .config) and the common source tree
// (Debian's linux-headers-X-amd64 + linux-headers-X-common, found through the
// build tree's Makefile; /lib/modules/<rel>/{build,source}). nullopt when dir
// is not a kernel header tree at all.
struct HeaderTreeLayout {
  std::filesystem::path build;
  std::filesystem::path source;  // == build for a complete tree
};
std::optional<HeaderTreeLayout> header_tree_layout(const std::filesystem::path& dir);

// The kernel a header tree describes, read from the tree itself: its
// release, LINUX_VERSION_CODE (include/generated/uapi/linux/version.h; the
// release string can lie: Debian's 4.19.0-N is 4.19.2xx there) and RHEL
// major. Checked to be usable by BCC here: configured
// (include/generated/autoconf.h) and for x86_64. Throws UsageError naming
// `option`, the tree, the problem and the fix.
struct HeaderTreeKernel {
  HeaderTreeLayout layout;
  std::string release;        // "" when the tree does not say
  uint32_t version_code = 0;  // 0 when the tree does not say
  int rhel_major = 0;
};
HeaderTreeKernel describe_header_tree(const std::filesystem::path& dir, const std::string& option = "--kernel-headers");

// The kernel --kernel-headers describes, for planning and compiling for a
// kernel that is not running (bundle, check): the tree's release, version
// and RHEL major, or --kernel-release/--kernel-version-code where given; its
// BPF abilities come from runner/kernel/abi.h. Throws UsageError.
KernelInfo kernel_of_header_tree(const HeaderOptions& options);

// BCC_KERNEL_SOURCE names one directory: a split tree is given to it as a
// merged view (directories merged, files symlinked) under cache_root.
std::filesystem::path merged_header_tree(const HeaderTreeLayout& layout, const std::filesystem::path& cache_root);

// Points BCC at the chosen headers (environment variables BCC reads in init()).
void export_for_bcc(const HeaderChoice& choice);

HeaderMode parse_header_mode(const std::string& text);  // throws UsageError

}  // namespace skbtrail
