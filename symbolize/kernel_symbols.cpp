#include "symbolize/kernel_symbols.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace skbtrail::symbolize {

namespace fs = std::filesystem;

namespace {

std::string running_release() {
  utsname uts{};
  ::uname(&uts);
  return uts.release;
}

}  // namespace

std::string find_vmlinux(const std::string& release) {
  const std::vector<std::string> candidates = {
      "/usr/lib/debug/boot/vmlinux-" + release,        // Debian/Ubuntu -dbg / -dbgsym
      "/usr/lib/debug/lib/modules/" + release + "/vmlinux",  // Fedora/RHEL debuginfo
      "/lib/modules/" + release + "/build/vmlinux",    // a kernel built here
      "/boot/vmlinux-" + release,
  };
  std::error_code ec;
  for (const auto& path : candidates)
    if (fs::exists(path, ec)) return path;
  throw SymbolizeError(fmt::format("no vmlinux with debug info for {} (tried {}): install linux-image-{}-dbg (Debian), "
                                   "linux-image-{}-dbgsym (Ubuntu) or kernel-debuginfo-{} (RHEL), or pass --vmlinux PATH",
                                   release, candidates.front(), release, release, release));
}

KernelSymbols::KernelSymbols(const KernelSymbolsOptions& options) {
  const std::string release = options.release.empty() ? running_release() : options.release;
  vmlinux_path_ = options.vmlinux.empty() ? find_vmlinux(release) : options.vmlinux;
  vmlinux_ = Image::open(vmlinux_path_);
  if (!vmlinux_->has_debug_info())
    throw SymbolizeError(fmt::format("{}: no DWARF debug info (this is a stripped or compressed kernel image; install "
                                     "linux-image-{}-dbg, or pass the unstripped vmlinux with --vmlinux)",
                                     vmlinux_path_, release));
  modules_dir_ = options.modules_dir.empty() ? "/usr/lib/debug/lib/modules/" + release : options.modules_dir;
}

void KernelSymbols::set_runtime_text(uint64_t runtime_text, const std::string& running_build_id) {
  const auto link_text = vmlinux_->text_address();
  if (!link_text) return;
  if (!running_build_id.empty() && !vmlinux_->build_id().empty() && running_build_id != vmlinux_->build_id())
    throw SymbolizeError(fmt::format("{} (build id {}) is not the running kernel (build id {}): raw addresses would "
                                     "point at the wrong code (pass the matching vmlinux)",
                                     vmlinux_path_, vmlinux_->build_id(), running_build_id));
  slide_ = runtime_text - *link_text;
}

const Image* KernelSymbols::module(const std::string& name) {
  if (auto it = modules_.find(name); it != modules_.end()) return it->second.get();
  std::unique_ptr<Image> image;
  std::error_code ec;
  if (fs::is_directory(modules_dir_, ec)) {
    // Module names use '_' where files may use '-'.
    std::string dashed = name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    for (auto it = fs::recursive_directory_iterator(modules_dir_, ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const std::string file = it->path().filename().string();
      if (file == name + ".ko" || file == dashed + ".ko" || file == name + ".ko.debug") {
        image = Image::open(it->path().string());
        break;
      }
    }
  }
  if (!image)
    throw SymbolizeError(fmt::format("module {}: no {}.ko with debug info under {} (install the kernel's -dbg "
                                     "package, or pass --modules DIR)",
                                     name, name, modules_dir_));
  return (modules_[name] = std::move(image)).get();
}

std::vector<Resolution> KernelSymbols::resolve(const FrameRef& frame, const Options& options) {
  if (frame.address) return {vmlinux_->resolve_address(*frame.address - slide_, options)};
  if (!frame.module.empty()) return module(frame.module)->resolve(frame, options);
  return vmlinux_->resolve(frame, options);
}

std::string KernelSymbols::annotate(std::string_view line, const Options& options) {
  std::string out;
  size_t copied = 0;
  for (const auto& found : find_frames(line)) {
    out.append(line.substr(copied, found.end - copied));
    copied = found.end;
    try {
      const auto resolutions = resolve(found.ref, options);
      const auto& chain = resolutions.front().chain;
      std::string where;
      for (size_t i = 0; i < chain.size(); ++i) {
        if (i) where += ", inlined by ";
        where += i + 1 < chain.size() ? fmt::format("{} at {}:{}", chain[i].function, chain[i].file, chain[i].line)
                                      : fmt::format("{}{}:{}", chain.size() > 1 ? chain[i].function + " at " : "",
                                                    chain[i].file, chain[i].line);
      }
      out += " (" + where + ")";
    } catch (const SymbolizeError&) {
      // Unknown frames stay as they were: annotation never breaks the text.
    }
  }
  out.append(line.substr(copied));
  return out;
}

}  // namespace skbtrail::symbolize
