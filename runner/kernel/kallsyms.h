// Kernel text symbols from /proc/kallsyms: address -> "func+0xoff [module]"
// for drop locations and stacks, and name lookups for probe targets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace skbtrail {

struct SymbolHit {
  std::string_view name;
  uint64_t offset = 0;
  std::string_view module;  // empty for vmlinux
};

class Kallsyms {
 public:
  static Kallsyms parse(std::istream& in);
  static Kallsyms load(const std::filesystem::path& path = "/proc/kallsyms");

  std::optional<SymbolHit> lookup(uint64_t address) const;
  // "tcp_v4_rcv+0x8c", "nf_hook_slow+0x44 [nf_tables]", or "0xffffffff8100" when unknown.
  std::string describe(uint64_t address) const;
  bool has_function(std::string_view name) const;
  // The address of the first text symbol of that name ("_text" for KASLR).
  std::optional<uint64_t> address_of(std::string_view name) const;
  size_t size() const { return symbols_.size(); }

 private:
  struct Symbol {
    uint64_t address;
    uint32_t name_offset;
    uint16_t name_length;
    uint16_t module_index;  // index into modules_, 0 = vmlinux
  };
  std::string_view name_of(const Symbol& s) const { return {names_.data() + s.name_offset, s.name_length}; }

  std::string names_;  // one arena for all names: no allocation per symbol
  std::vector<std::string> modules_{""};
  std::vector<Symbol> symbols_;  // text symbols sorted by address
  mutable std::unordered_set<std::string_view> name_index_;  // built on first has_function()
};

}  // namespace skbtrail
