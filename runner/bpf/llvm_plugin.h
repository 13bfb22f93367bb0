// Everything that needs LLVM, behind one plugin (libskbtrail-llvm.so, built
// from runner/llvm/): compiling BPF C with BCC, and DWARF symbolization.
// It is loaded on first use, so a run that loads a cached or bundled
// program never maps libclang and libLLVM (~70 MiB of RSS at start: see
// bench/startup.sh). The static build links it in instead.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/bpf/object.h"
#include "runner/output/source_lines.h"

namespace skbtrail {

struct LlvmPlugin {
  static constexpr unsigned kAbi = 1;
  unsigned abi = kAbi;
  // BCC compiles source with cflags (the environment says where headers
  // are); nullopt with error set on failure.
  std::optional<BpfObject> (*compile)(const std::string& source, const std::vector<std::string>& cflags,
                                      std::string& error);
  // vmlinux "" = find the -dbg package's; nullptr with error set when none.
  std::unique_ptr<SourceAnnotator> (*open_annotator)(const std::string& vmlinux, std::string& error);
  int (*run_symbolize)(const SymbolizeOptions& options);
};

// The plugin, loaded on first use from beside the binary (or
// ../lib/skbtrail/). Throws EnvironmentError naming where it looked.
const LlvmPlugin& llvm_plugin();

// --symbolize[=VMLINUX]: the kernel's debug info, or nullptr after saying once
// (on stderr) what would provide it.
std::unique_ptr<SourceAnnotator> open_annotator_or_explain(const std::optional<std::string>& request,
                                                           const char* command);

}  // namespace skbtrail

// The plugin's one export.
extern "C" const skbtrail::LlvmPlugin* skbtrail_llvm_plugin_v1();
