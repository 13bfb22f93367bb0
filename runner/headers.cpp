#include "runner/headers.h"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "runner/btf_tree.h"
#include "runner/errors.h"

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

HeaderChoice foreign_headers(const KernelInfo& kernel, const HeaderOptions& options) {
  const fs::path& dir = options.kernel_headers;
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), R_OK | X_OK) != 0)
    throw UsageError(fmt::format("--kernel-headers '{}': not a readable directory (unpack the kernel-devel/"
                                 "linux-headers package there, or fix its permissions)",
                                 dir.string()));
  if (!looks_like_kernel_headers(dir))
    throw UsageError(fmt::format("--kernel-headers '{}': no include/linux/ inside (point it at the top of "
                                 "an unpacked kernel headers tree, e.g. /usr/src/kernels/<release>)",
                                 dir.string()));
  const std::string tree_release =
      options.kernel_release.empty() ? header_tree_release(dir) : options.kernel_release;
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
  choice.kernel_source = fs::absolute(dir);
  choice.version_code = options.version_code;
  if (!choice.version_code && !options.kernel_release.empty())
    choice.version_code = parse_version_code(options.kernel_release);
  choice.description = fmt::format("{} (for {}{})", choice.kernel_source.string(),
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
  HeaderChoice choice;
  choice.mode = "btf";
  try {
    choice.kernel_source = ensure_btf_header_tree(request);
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
