// The LLVM plugin's one export (see runner/bpf/llvm_plugin.h).
#include "runner/bpf/llvm_plugin.h"
#include "runner/llvm/plugin_parts.h"

extern "C" const skbtrail::LlvmPlugin* skbtrail_llvm_plugin_v1() {
  static const skbtrail::LlvmPlugin plugin{skbtrail::LlvmPlugin::kAbi, &skbtrail::compile_with_bcc,
                                           &skbtrail::open_dwarf_annotator, &skbtrail::symbolize_command};
  return &plugin;
}
