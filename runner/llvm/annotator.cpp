// --symbolize: file and line from the kernel's DWARF (symbolize/).
#include "runner/llvm/plugin_parts.h"

#include "symbolize/kernel_symbols.h"

namespace skbtrail {

namespace {

class DwarfAnnotator : public SourceAnnotator {
 public:
  explicit DwarfAnnotator(const symbolize::KernelSymbolsOptions& options) : symbols_(options) {}
  std::string annotate(const std::string& frame, bool return_address) override {
    symbolize::Options options;
    options.return_address = return_address;
    return symbols_.annotate(frame, options);
  }

 private:
  symbolize::KernelSymbols symbols_;
};

}  // namespace

std::unique_ptr<SourceAnnotator> open_dwarf_annotator(const std::string& vmlinux, std::string& error) {
  try {
    symbolize::KernelSymbolsOptions options;
    options.vmlinux = vmlinux;
    return std::make_unique<DwarfAnnotator>(options);
  } catch (const symbolize::SymbolizeError& e) {
    error = e.what();
    return nullptr;
  }
}

}  // namespace skbtrail
