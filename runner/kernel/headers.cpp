#include "runner/kernel/headers.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "runner/kernel/abi.h"
#include "runner/kernel/btf_tree.h"
#include "runner/common/errors.h"

namespace skbtrail {

namespace fs = std::filesystem;

HeaderMode parse_header_mode(const std::string& text) {
  if (text == "auto") return HeaderMode::Auto;
  if (text == "headers") return HeaderMode::Headers;
  if (text == "btf") return HeaderMode::Btf;
  throw UsageError(fmt::format("--headers '{}': unknown mode (use auto, headers or btf)", text));
}

std::string header_tree_release(const fs::path& dir) {
  for (const fs::path& base : {dir, dir / "build"}) {
    if (std::ifstream in(base / "include/config/kernel.release"); in) {
      std::string release;
      if (std::getline(in, release) && !release.empty()) return release;
    }
    // #define UTS_RELEASE "4.15.0-213-generic"
    if (std::ifstream in(base / "include/generated/utsrelease.h"); in) {
      std::string line;
      while (std::getline(in, line)) {
        const auto open = line.find('"');
        const auto close = open == std::string::npos ? open : line.find('"', open + 1);
        if (line.find("UTS_RELEASE") != std::string::npos && close != std::string::npos)
          return line.substr(open + 1, close - open - 1);
      }
    }
  }
  return {};
}

namespace {

// The number a "#define NAME 123" line of `file` gives NAME; nullopt when
// there is none.
std::optional<uint64_t> defined_number(const fs::path& file, std::string_view name) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string define, macro;
    uint64_t value = 0;
    if (words >> define >> macro >> value && define == "#define" && macro == name) return value;
  }
  return std::nullopt;
}

}  // namespace

bool header_tree_is_rhel(const fs::path& dir) {
  return defined_number(dir / "include/generated/uapi/linux/version.h", "RHEL_MAJOR").has_value();
}

std::optional<HeaderTreeLayout> header_tree_layout(const fs::path& dir) {
  std::error_code ec;
  auto complete = [&](const fs::path& p) { return fs::is_directory(p / "include/linux", ec); };
  fs::path build = dir;
  if (!fs::is_directory(dir / "include", ec) && fs::is_directory(dir / "build", ec)) build = dir / "build";
  build = fs::weakly_canonical(build, ec);
  if (complete(build)) return HeaderTreeLayout{build, build};
  std::vector<fs::path> candidates = {dir / "source", build / "source"};
  // Debian/Ubuntu: the flavour's Makefile is "include /usr/src/linux-headers-X-common/Makefile".
  if (std::ifstream makefile(build / "Makefile"); makefile) {
    for (std::string line; std::getline(makefile, line);) {
      if (line.rfind("include ", 0) != 0 || !line.ends_with("/Makefile")) continue;
      candidates.push_back(fs::path(line.substr(8)).parent_path());
    }
  }
  if (!fs::is_directory(build / "include", ec)) return std::nullopt;
  for (const auto& source : candidates)
    if (complete(source)) return HeaderTreeLayout{build, fs::weakly_canonical(source, ec)};
  return std::nullopt;
}

HeaderTreeKernel describe_header_tree(const fs::path& dir, const std::string& option) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), R_OK | X_OK) != 0)
    throw UsageError(fmt::format("{} '{}': not a readable directory (unpack the kernel-devel/linux-headers package "
                                 "there, or fix its permissions)",
                                 option, dir.string()));
  const auto layout = header_tree_layout(dir);
  if (!layout)
    throw UsageError(fmt::format("{} '{}': no include/linux/ inside (point it at the top of an unpacked kernel "
                                 "headers tree, e.g. /usr/src/kernels/<release>)",
                                 option, dir.string()));
  const fs::path autoconf = layout->build / "include/generated/autoconf.h";
  if (!fs::exists(autoconf, ec))
    throw UsageError(fmt::format("{} '{}': include/generated/autoconf.h is missing, so the tree was never "
                                 "configured (use the distribution's kernel-devel/linux-headers package, or run "
                                 "make olddefconfig modules_prepare in the tree)",
                                 option, dir.string()));
  if (!defined_number(autoconf, "CONFIG_X86_64")) {
    std::string arch = "another architecture";
    for (const char* other : {"CONFIG_ARM64", "CONFIG_PPC64", "CONFIG_S390", "CONFIG_RISCV", "CONFIG_MIPS", "CONFIG_ARM",
                              "CONFIG_X86_32"})
      if (defined_number(autoconf, other)) {
        arch = std::string(other + 7);
        break;
      }
    throw UsageError(fmt::format("{} '{}': the tree is configured for {} (no CONFIG_X86_64 in autoconf.h), but "
                                 "skbtrail runs on x86_64 (use the x86_64 kernel-devel/linux-headers package)",
                                 option, dir.string(), arch));
  }
  HeaderTreeKernel k;
  k.layout = *layout;
  k.release = header_tree_release(layout->build);
  const fs::path version_h = layout->build / "include/generated/uapi/linux/version.h";
  k.version_code = static_cast<uint32_t>(defined_number(version_h, "LINUX_VERSION_CODE").value_or(0));
  if (!k.version_code && !k.release.empty()) k.version_code = parse_version_code(k.release).value_or(0);
  k.rhel_major = static_cast<int>(defined_number(version_h, "RHEL_MAJOR").value_or(0));
  return k;
}

KernelInfo kernel_of_header_tree(const HeaderOptions& options) {
  const HeaderTreeKernel tree = describe_header_tree(options.kernel_headers);
  KernelInfo k;
  k.release = options.kernel_release.empty() ? tree.release : options.kernel_release;
  if (k.release.empty())
    throw UsageError(fmt::format("--kernel-headers '{}': cannot tell which release the tree is for (add "
                                 "--kernel-release REL)",
                                 options.kernel_headers.string()));
  k.version_code = options.version_code.value_or(tree.version_code ? tree.version_code
                                                                   : parse_version_code(k.release).value_or(0));
  k.rhel_major = tree.rhel_major ? tree.rhel_major : rhel_major_of_release(k.release);
  k.has_kprobes = abi::has_bpf_kprobes({k.version_code, k.rhel_major});
  return k;
}

namespace {

// dst becomes a directory holding, for every name in build or source, a
// symlink to build's entry (it wins) or source's; names that are
// directories in both are merged the same way, one level down.
void merge_directories(const fs::path& dst, const fs::path& build, const fs::path& source) {
  fs::create_directories(dst);
  std::set<std::string> names;
  std::error_code ec;
  for (const fs::path& side : {build, source})
    for (const auto& entry : fs::directory_iterator(side, ec)) names.insert(entry.path().filename().string());
  for (const auto& name : names) {
    const fs::path a = build / name, b = source / name;
    if (fs::is_directory(a, ec) && fs::is_directory(b, ec)) {
      merge_directories(dst / name, a, b);
    } else {
      fs::create_symlink(fs::exists(a, ec) ? a : b, dst / name);
    }
  }
}

}  // namespace

fs::path merged_header_tree(const HeaderTreeLayout& layout, const fs::path& cache_root) {
  if (layout.build == layout.source) return layout.build;
  const std::string key = fmt::format("{:016x}", std::hash<std::string>{}(layout.build.string() + "|" +
                                                                         layout.source.string()));
  const fs::path root = cache_root.empty() ? default_cache_root() : cache_root;
  const fs::path dst = root / "merged-headers" / (layout.build.filename().string() + "-" + key);
  std::error_code ec;
  if (fs::exists(dst / ".complete", ec)) return dst;
  // Build next to it and rename: a concurrent run never sees half a tree.
  const fs::path tmp = dst.string() + fmt::format(".tmp{}", ::getpid());
  fs::remove_all(tmp, ec);
  try {
    merge_directories(tmp, layout.build, layout.source);
    std::ofstream(tmp / ".complete") << layout.build.string() << "\n" << layout.source.string() << "\n";
    fs::remove_all(dst, ec);
    fs::rename(tmp, dst);
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    throw EnvironmentError(fmt::format("merging the header trees {} and {} under {} failed: {} (pass --cache-dir "
                                       "to a writable directory)",
                                       layout.build.string(), layout.source.string(), root.string(), e.what()));
  }
  return dst;
}

namespace {

HeaderChoice foreign_headers(const KernelInfo& kernel, const HeaderOptions& options) {
  const fs::path& dir = options.kernel_headers;
  const HeaderTreeKernel tree = describe_header_tree(dir);
  const auto layout = &tree.layout;
  const std::string tree_release =
      options.kernel_release.empty() ? header_tree_release(layout->build) : options.kernel_release;
  if (tree_release.empty() && !options.force)
    throw UsageError(fmt::format("--kernel-headers '{}': cannot tell which kernel release the tree is for "
                                 "(add --kernel-release REL)",
                                 dir.string()));
  if (tree_release != kernel.release && !options.force)
    throw UsageError(fmt::format("--kernel-headers '{}': headers are for {} but the running kernel is {}; "
                                 "they compile but read wrong structure offsets (use matching headers, or "
                                 "--force-headers if you know the layouts agree)",
                                 dir.string(), tree_release, kernel.release));
  HeaderChoice choice;
  choice.mode = "foreign";
  choice.kernel_source = merged_header_tree(*layout, options.cache_root);
  choice.version_code = options.version_code;
  if (!choice.version_code && !options.kernel_release.empty())
    choice.version_code = parse_version_code(options.kernel_release);
  choice.description = fmt::format("{}{} (for {}{})", fs::absolute(dir).string(),
                                   layout->build == layout->source
                                       ? ""
                                       : fmt::format(", {} + {} merged in {}", layout->build.string(),
                                                     layout->source.string(), choice.kernel_source.string()),
                                   tree_release.empty() ? "an unknown release" : tree_release,
                                   tree_release == kernel.release ? "" : ", forced");
  return choice;
}

HeaderChoice btf_headers(const KernelInfo& kernel, const HeaderOptions& options) {
  BtfTreeRequest request;
  request.btf_file = kernel.btf_path;
  request.release = kernel.release;
  request.version_code = options.version_code.value_or(kernel.version_code);
  request.cache_root = options.cache_root;
  if (kernel.btf_path == "/sys/kernel/btf/vmlinux") {
    request.build_id = running_build_id();
    // Module BTF (5.11+, CONFIG_DEBUG_INFO_BTF_MODULES) sits next to vmlinux's.
    std::error_code ec;
    if (fs::exists("/sys/kernel/btf/nf_tables", ec)) request.nf_tables_btf = "/sys/kernel/btf/nf_tables";
  }
  HeaderChoice choice;
  choice.mode = "btf";
  try {
    choice.kernel_source = ensure_btf_header_tree(request);
    choice.btf_has_nf_tables = btf_tree_has_nf_tables(choice.kernel_source);
  } catch (const std::exception& e) {
    throw EnvironmentError(fmt::format("generating headers from BTF failed: {} (pass --cache-dir to a writable "
                                       "directory, or install linux-headers-{})",
                                       e.what(), kernel.release));
  }
  choice.version_code = options.version_code;
  choice.btf = true;
  choice.description = fmt::format("generated from BTF in {}", choice.kernel_source.string());
  return choice;
}

std::string install_hint(const KernelInfo& kernel) {
  return fmt::format("install the headers of the running kernel (Debian/Ubuntu: apt-get install linux-headers-{0}; "
                     "RHEL/CentOS: yum install kernel-devel-{0}), or run on a kernel with BTF "
                     "(CONFIG_DEBUG_INFO_BTF), or pass --kernel-headers DIR",
                     kernel.release);
}

}  // namespace

HeaderChoice choose_headers(const KernelInfo& kernel, const HeaderOptions& options) {
  if (!options.kernel_headers.empty()) return foreign_headers(kernel, options);

  const bool want_headers = options.mode == HeaderMode::Headers ||
                            (options.mode == HeaderMode::Auto && kernel.has_headers());
  if (want_headers) {
    if (!kernel.has_headers())
      throw EnvironmentError(fmt::format("--headers headers: no headers for {} under /lib/modules/{}/build; {}",
                                         kernel.release, kernel.release, install_hint(kernel)));
    HeaderChoice choice;
    choice.mode = "headers";
    choice.version_code = options.version_code;
    choice.description = fmt::format("running kernel's headers in {}", kernel.headers_dir.string());
    return choice;
  }
  if (!kernel.has_btf()) {
    if (options.mode == HeaderMode::Btf)
      throw EnvironmentError(fmt::format("--headers btf: this kernel has no /sys/kernel/btf/vmlinux; {}",
                                         install_hint(kernel)));
    throw EnvironmentError(fmt::format("no kernel headers and no BTF for {}: {}", kernel.release,
                                       install_hint(kernel)));
  }
  return btf_headers(kernel, options);
}

void export_for_bcc(const HeaderChoice& choice) {
  if (choice.kernel_source.empty())
    ::unsetenv("BCC_KERNEL_SOURCE");
  else
    ::setenv("BCC_KERNEL_SOURCE", choice.kernel_source.c_str(), 1);
  if (choice.version_code)
    ::setenv("BCC_LINUX_VERSION_CODE", std::to_string(*choice.version_code).c_str(), 1);
}

}  // namespace skbtrail
