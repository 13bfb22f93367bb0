#include "runner/data/compat_table.h"

#include <charconv>

#include <fmt/format.h>

#include "resources/bundled.h"
#include "runner/common/version.h"
#include "runner/data/line_reader.h"

namespace skbtrail {

CompatTable CompatTable::parse(std::string_view text, const std::string& source) {
  CompatTable t;
  for (const auto& [line, w, rest] : read_word_lines(text)) {
    auto fail = [&, line = line](const std::string& what) { return data_error(source, line, what); };
    auto version = [&](const std::string& v) {
      const auto code = parse_kernel_version(v);
      if (!code) throw fail(fmt::format("'{}' is not a kernel version (X.Y)", v));
      return *code;
    };
    const std::string& kind = w[0];
    if (kind == "helper" || kind == "map" || kind == "prog" || kind == "feature") {
      if (w.size() != 3) throw fail(fmt::format("'{}' takes a name and a version", kind));
      auto& into = kind == "helper" ? t.helpers_ : kind == "map" ? t.maps_ : kind == "prog" ? t.progs_ : t.features_;
      into[w[1]] = version(w[2]);
    } else if (kind == "limit") {
      if (w.size() != 4 || w[1] != "insns") throw fail("use: limit insns VERSION COUNT");
      size_t count = 0;
      if (std::from_chars(w[3].data(), w[3].data() + w[3].size(), count).ec != std::errc() || count == 0)
        throw fail(fmt::format("'{}' is not an instruction count", w[3]));
      t.insn_limits_[version(w[2])] = count;
    } else if (kind == "backport") {
      if (w.size() < 5) throw fail("use: backport NAME BASE prog|map|helper WHAT...");
      auto& b = t.backports_[w[1]];
      b.base = version(w[2]);
      auto& into = w[3] == "prog" ? b.progs : w[3] == "map" ? b.maps : w[3] == "helper" ? b.helpers : b.progs;
      if (w[3] != "prog" && w[3] != "map" && w[3] != "helper") throw fail("backport lists prog, map or helper");
      into.insert(w.begin() + 4, w.end());
    } else {
      throw fail(fmt::format("unknown line kind '{}' (helper, map, prog, feature, limit, backport)", kind));
    }
  }
  if (t.insn_limits_.empty()) throw UsageError(fmt::format("{}: no 'limit insns' line", source));
  return t;
}

const CompatTable& CompatTable::bundled() {
  static const CompatTable table = parse(resources::bundled_text("bpf-compat.data"), "scripts/bpf-compat.data");
  return table;
}

namespace {
std::optional<uint32_t> find_in(const std::map<std::string, uint32_t>& m, const std::string& key) {
  const auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return it->second;
}
}  // namespace

std::optional<uint32_t> CompatTable::helper_since(const std::string& n) const { return find_in(helpers_, n); }
std::optional<uint32_t> CompatTable::map_since(const std::string& n) const { return find_in(maps_, n); }
std::optional<uint32_t> CompatTable::prog_since(const std::string& n) const { return find_in(progs_, n); }
std::optional<uint32_t> CompatTable::feature_since(const std::string& n) const { return find_in(features_, n); }

size_t CompatTable::instruction_limit(uint32_t version) const {
  size_t limit = insn_limits_.begin()->second;
  for (const auto& [from, count] : insn_limits_)
    if (version >= from) limit = count;
  return limit;
}

const CompatTable::Backport* CompatTable::backport(const std::string& name) const {
  const auto it = backports_.find(name);
  return it == backports_.end() ? nullptr : &it->second;
}

}  // namespace skbtrail
