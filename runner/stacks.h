// Kernel stacks captured with BPF_STACK_TRACE: reading them back and
// printing them, shared by every command that offers stacks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

namespace skbtrail {

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

// Reads stacks by id from a stack map and frees each id after reading, so a
// long run does not fill the map. One buffer, no allocation per event.
class StackMap {
 public:
  explicit StackMap(int fd) : fd_(fd) {}
  // The frames of stack_id (innermost first); empty for ids < 0 or lost ones.
  std::span<const uint64_t> take(int32_t stack_id);

 private:
  static constexpr int kMaxDepth = 127;  // PERF_MAX_STACK_DEPTH
  int fd_;
  uint64_t frames_[kMaxDepth];
};

// The perf-sample handler every command uses: decode, stop at -c N, take the
// event's stack, hand it to the reporter (which appends to its output).
template <typename Event, typename Reporter, typename Loop>
auto reporting_handler(Loop& loop, Reporter& reporter, std::string& out, StackMap& stacks,
                       std::optional<uint64_t> count, bool (*decode)(std::span<const uint8_t>, Event&)) {
  return [&loop, &reporter, &out, &stacks, count, decode](std::span<const uint8_t> sample) {
    if (count && reporter.events() >= *count) return;
    Event ev;
    if (!decode(sample, ev)) return;
    reporter.append_event(out, ev, stacks.take(ev.stack_id));
    if (count && reporter.events() >= *count) loop.stop("count reached");
  };
}

// "    func+0xoff\n" per frame.
void append_stack_text(std::string& out, const AddressNamer& names, std::span<const uint64_t> stack);
// ,"stack":["func+0xoff",...] (nothing for an empty stack).
void append_stack_json(std::string& out, const AddressNamer& names, std::span<const uint64_t> stack);

// The line that says where perf samples were lost.
void append_lost_line(std::string& out, bool json, int cpu, uint64_t count);

}  // namespace skbtrail
