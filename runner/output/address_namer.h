// Kernel addresses by name: drop locations, stack frames, RST callers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

namespace skbtrail {

class JsonLine;
class Kallsyms;
namespace symbolize {
class KernelSymbols;
}

// Names kernel addresses: "func+0xoff [mod]" from kallsyms and, with
// --symbolize and debug info, " (file:line, inlined by ...)" after it.
class AddressNamer {
 public:
  explicit AddressNamer(const Kallsyms& kallsyms, symbolize::KernelSymbols* symbols = nullptr)
      : kallsyms_(kallsyms), symbols_(symbols) {}
  // return_address: the address follows a call (stack frames, drop
  // locations), so the source line is looked up one byte earlier.
  // Cached per address: the reference stays valid for the namer's life.
  const std::string& describe(uint64_t address, bool return_address = true) const;
  const Kallsyms& kallsyms() const { return kallsyms_; }

 private:
  const Kallsyms& kallsyms_;
  symbolize::KernelSymbols* symbols_;
  // Stacks repeat: a DWARF lookup per distinct (address, return) pair, not
  // per event.
  mutable std::unordered_map<uint64_t, std::string> annotated_[2];
};

// --symbolize[=VMLINUX]: the kernel's debug info, or nullptr after saying once
// (on stderr) what package would provide it.
std::unique_ptr<symbolize::KernelSymbols> open_symbols_or_explain(const std::optional<std::string>& request,
                                                                  const char* command);

// A kernel stack in a record: its frames (innermost first) and who names them.
struct StackView {
  const AddressNamer* names = nullptr;
  std::span<const uint64_t> frames;
  bool empty() const { return frames.empty(); }
};

// "    func+0xoff\n" per frame.
void append_stack_text(std::string& out, const StackView& stack);
// "stack":["func+0xoff",...] (nothing for an empty stack).
void write_stack_json(JsonLine& line, const StackView& stack);

}  // namespace skbtrail
