#include "runner/output/address_namer.h"

#include <cstdio>

#include <fmt/format.h>

#include "runner/kernel/kallsyms.h"
#include "runner/output/json_line.h"
#include "symbolize/kernel_symbols.h"

namespace skbtrail {

const std::string& AddressNamer::describe(uint64_t address, bool return_address) const {
  // Locations and stacks repeat: one lookup per distinct address, not per event.
  auto& cache = annotated_[return_address && symbols_ ? 1 : 0];
  if (const auto it = cache.find(address); it != cache.end()) return it->second;
  std::string name = kallsyms_.describe(address);
  if (symbols_ && kallsyms_.lookup(address)) {
    symbolize::Options options;
    options.return_address = return_address;
    name = symbols_->annotate(name, options);
  }
  return cache.emplace(address, std::move(name)).first->second;
}

std::unique_ptr<symbolize::KernelSymbols> open_symbols_or_explain(const std::optional<std::string>& request,
                                                                  const char* command) {
  if (!request) return nullptr;
  try {
    symbolize::KernelSymbolsOptions options;
    options.vmlinux = *request;
    return std::make_unique<symbolize::KernelSymbols>(options);
  } catch (const symbolize::SymbolizeError& e) {
    std::fprintf(stderr, "skbtrail %s: --symbolize: %s; printing func+0xoff only\n", command, e.what());
    return nullptr;
  }
}

void append_stack_text(std::string& out, const StackView& stack) {
  // The first frame is where the probe fired, the others are return addresses.
  for (size_t i = 0; i < stack.frames.size(); ++i) {
    out += "    ";
    out += stack.names->describe(stack.frames[i], i > 0);
    out += '\n';
  }
}

void write_stack_json(JsonLine& line, const StackView& stack) {
  if (stack.empty()) return;
  line.begin_array("stack");
  for (size_t i = 0; i < stack.frames.size(); ++i) line.item(stack.names->describe(stack.frames[i], i > 0));
  line.end_array();
}

}  // namespace skbtrail
