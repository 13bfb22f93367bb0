// Kernel addresses by name: drop locations, stack frames, RST callers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

namespace skbtrail {

class JsonLine;
class Kallsyms;
class SourceAnnotator;

// Names kernel addresses: "func+0xoff [mod]" from kallsyms and, with
// --symbolize and debug info, " (file:line, inlined by ...)" after it.
class AddressNamer {
 public:
  explicit AddressNamer(const Kallsyms& kallsyms, SourceAnnotator* lines = nullptr)
      : kallsyms_(&kallsyms), lines_(lines) {}
  // Symbols still loading (on another thread): waited for on first use, so
  // a run is attached and listening before /proc/kallsyms is parsed.
  explicit AddressNamer(std::function<const Kallsyms&()> kallsyms, SourceAnnotator* lines = nullptr)
      : load_(std::move(kallsyms)), lines_(lines) {}
  // return_address: the address follows a call (stack frames, drop
  // locations), so the source line is looked up one byte earlier.
  // Cached per address: the reference stays valid for the namer's life.
  const std::string& describe(uint64_t address, bool return_address = true) const;
  const Kallsyms& kallsyms() const {
    if (!kallsyms_) kallsyms_ = &load_();
    return *kallsyms_;
  }

 private:
  mutable const Kallsyms* kallsyms_ = nullptr;
  std::function<const Kallsyms&()> load_;
  SourceAnnotator* lines_;
  // Stacks repeat: a DWARF lookup per distinct (address, return) pair, not
  // per event.
  mutable std::unordered_map<uint64_t, std::string> annotated_[2];
};

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
