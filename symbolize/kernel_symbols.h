// The running (or a given) kernel's symbols: vmlinux and module .ko files
// with debug info, the KASLR slide, and in-place annotation of stack text.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "symbolize/symbolize.h"

namespace skbtrail::symbolize {

struct KernelSymbolsOptions {
  std::string vmlinux;      // empty: the usual debug paths for `release`
  std::string release;      // empty: the running kernel's
  std::string modules_dir;  // empty: /usr/lib/debug/lib/modules/<release>
};

// Where Debian, Ubuntu and Fedora put the vmlinux with DWARF; throws
// SymbolizeError naming the paths tried and the package that provides it.
std::string find_vmlinux(const std::string& release);

class KernelSymbols {
 public:
  explicit KernelSymbols(const KernelSymbolsOptions& options);  // throws SymbolizeError

  // Runtime address of _text (from /proc/kallsyms) for raw addresses: only
  // used when the vmlinux is the running kernel (same build id).
  void set_runtime_text(uint64_t runtime_text, const std::string& running_build_id);
  uint64_t slide() const { return slide_; }

  std::vector<Resolution> resolve(const FrameRef& frame, const Options& options);
  // The line with " (file:line ...)" after every frame that resolves.
  std::string annotate(std::string_view line, const Options& options);
  const Image& vmlinux() const { return *vmlinux_; }
  const std::string& vmlinux_path() const { return vmlinux_path_; }

 private:
  const Image* module(const std::string& name);

  std::unique_ptr<Image> vmlinux_;
  std::string vmlinux_path_;
  std::string modules_dir_;
  std::map<std::string, std::unique_ptr<Image>> modules_;
  uint64_t slide_ = 0;
};

}  // namespace skbtrail::symbolize
