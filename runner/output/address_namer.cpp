#include "runner/output/address_namer.h"

#include <fmt/format.h>

#include "runner/kernel/kallsyms.h"
#include "runner/output/json_line.h"
#include "runner/output/source_lines.h"

namespace skbtrail {

const std::string& AddressNamer::describe(uint64_t address, bool return_address) const {
  // Locations and stacks repeat: one lookup per distinct address, not per event.
  auto& cache = annotated_[return_address && lines_ ? 1 : 0];
  if (const auto it = cache.find(address); it != cache.end()) return it->second;
  std::string name = kallsyms().describe(address);
  if (lines_ && kallsyms().lookup(address)) name = lines_->annotate(name, return_address);
  return cache.emplace(address, std::move(name)).first->second;
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
