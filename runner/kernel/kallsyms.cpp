#include "runner/kernel/kallsyms.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace skbtrail {

Kallsyms Kallsyms::parse(std::istream& in) {
  Kallsyms table;
  std::string line;
  while (std::getline(in, line)) {
    // "ffffffff81a2b3c0 T tcp_v4_rcv" or "ffffffffc0123000 t nft_do_chain\t[nf_tables]"
    const std::string_view l(line);
    const auto sp1 = l.find(' ');
    if (sp1 == std::string_view::npos || sp1 + 3 > l.size()) continue;
    const char type = l[sp1 + 1];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;  // text only
    uint64_t address = 0;
    if (std::from_chars(l.data(), l.data() + sp1, address, 16).ec != std::errc()) continue;
    std::string_view rest = l.substr(sp1 + 3);
    std::string_view module;
    if (const auto tab = rest.find_first_of("\t "); tab != std::string_view::npos) {
      module = rest.substr(tab + 1);
      rest = rest.substr(0, tab);
      const auto open = module.find('[');
      const auto close = module.find(']');
      module = (open != std::string_view::npos && close > open) ? module.substr(open + 1, close - open - 1)
                                                                 : std::string_view{};
    }
    if (rest.empty() || rest.size() > 0xffff) continue;
    uint16_t module_index = 0;
    if (!module.empty()) {
      // Modules arrive grouped, so checking the last one is enough in practice.
      if (table.modules_.back() != module) table.modules_.emplace_back(module);
      module_index = static_cast<uint16_t>(table.modules_.size() - 1);
    }
    table.symbols_.push_back({address, static_cast<uint32_t>(table.names_.size()),
                              static_cast<uint16_t>(rest.size()), module_index});
    table.names_.append(rest);
  }
  std::stable_sort(table.symbols_.begin(), table.symbols_.end(),
                   [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
  return table;
}

Kallsyms Kallsyms::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path.string()));
  return parse(in);
}

std::optional<SymbolHit> Kallsyms::lookup(uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](uint64_t a, const Symbol& s) { return a < s.address; });
  if (it == symbols_.begin() || address == 0) return std::nullopt;
  --it;
  if (it->address == 0) return std::nullopt;  // kptr_restrict: every address reads as 0
  return SymbolHit{name_of(*it), address - it->address, modules_[it->module_index]};
}

std::string Kallsyms::describe(uint64_t address) const {
  const auto hit = lookup(address);
  if (!hit) return fmt::format("0x{:x}", address);
  if (hit->module.empty()) return fmt::format("{}+0x{:x}", hit->name, hit->offset);
  return fmt::format("{}+0x{:x} [{}]", hit->name, hit->offset, hit->module);
}

bool Kallsyms::has_function(std::string_view name) const {
  if (name_index_.empty()) {
    name_index_.reserve(symbols_.size());
    for (const auto& s : symbols_) name_index_.insert(name_of(s));
  }
  return name_index_.contains(name);
}

std::optional<uint64_t> Kallsyms::address_of(std::string_view name) const {
  for (const auto& s : symbols_)
    if (name_of(s) == name) return s.address;
  return std::nullopt;
}

}  // namespace skbtrail
