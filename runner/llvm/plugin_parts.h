// The LLVM plugin's parts (runner/llvm/): BCC's compiler, the DWARF
// annotator and `skbtrail symbolize`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/bpf/object.h"
#include "runner/output/source_lines.h"

namespace skbtrail {

std::optional<BpfObject> compile_with_bcc(const std::string& source, const std::vector<std::string>& cflags,
                                          std::string& error);
std::unique_ptr<SourceAnnotator> open_dwarf_annotator(const std::string& vmlinux, std::string& error);
int symbolize_command(const SymbolizeOptions& options);

}  // namespace skbtrail
