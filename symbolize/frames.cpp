// Frame syntax and faddr2line's output format: no LLVM here, so the parser
// can be fuzzed and reused on its own.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>

#include <fmt/format.h>

#include "symbolize/symbolize.h"

namespace skbtrail::symbolize {

namespace {

std::optional<uint64_t> parse_hex(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool is_symbol_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$'; }

}  // namespace

std::optional<FrameRef> parse_frame(std::string_view text) {
  // Trim and split off " [module]".
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  FrameRef ref;
  if (text.ends_with(']')) {
    const auto open = text.rfind('[');
    if (open == std::string_view::npos) return std::nullopt;
    ref.module = std::string(text.substr(open + 1, text.size() - open - 2));
    text = text.substr(0, open);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    if (ref.module.empty() || !std::all_of(ref.module.begin(), ref.module.end(), is_symbol_char)) return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  const auto plus = text.rfind('+');
  if (plus == std::string_view::npos) {
    if (!(text.starts_with("0x") || text.starts_with("0X") || text.size() == 16)) return std::nullopt;
    ref.address = parse_hex(text);
    if (!ref.address || !ref.module.empty()) return std::nullopt;
    return ref;
  }
  ref.function = std::string(text.substr(0, plus));
  if (ref.function.empty() || !std::all_of(ref.function.begin(), ref.function.end(), is_symbol_char)) return std::nullopt;
  std::string_view rest = text.substr(plus + 1);
  const auto slash = rest.find('/');
  const std::string_view offset = rest.substr(0, slash);
  const auto offset_value = parse_hex(offset);
  if (!offset_value || !(offset.starts_with("0x") || offset.starts_with("0X"))) return std::nullopt;
  ref.offset = *offset_value;
  ref.offset_text = std::string(offset);
  if (slash != std::string_view::npos) {
    const auto size = rest.substr(slash + 1);
    ref.size = parse_hex(size);
    if (!ref.size || !(size.starts_with("0x") || size.starts_with("0X"))) return std::nullopt;
  }
  return ref;
}

std::vector<FrameInText> find_frames(std::string_view line) {
  // func+0xoff[/0xsize][ [module]] as a whole word; raw 0xffff... addresses
  // are left alone in free text (too easily confused with data).
  static const std::regex frame(R"(([A-Za-z_.$][A-Za-z0-9_.$]*)\+0x[0-9a-fA-F]+(/0x[0-9a-fA-F]+)?( \[[A-Za-z0-9_]+\])?)");
  std::vector<FrameInText> found;
  const std::string text(line);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), frame); it != std::sregex_iterator(); ++it) {
    const size_t begin = static_cast<size_t>(it->position());
    const size_t end = begin + static_cast<size_t>(it->length());
    if ((begin > 0 && is_symbol_char(text[begin - 1])) || (end < text.size() && is_symbol_char(text[end]))) continue;
    if (auto ref = parse_frame(it->str())) found.push_back({begin, begin + static_cast<size_t>(it->length()), *ref});
  }
  return found;
}

std::string format(const Resolution& r) {
  std::string out = r.header + "\n";
  for (size_t i = 0; i < r.chain.size(); ++i) {
    const auto& f = r.chain[i];
    out += fmt::format("{}{} at {}:{}{}\n", i ? " (inlined by) " : "", f.function, f.file,
                       f.line ? std::to_string(f.line) : std::string("?"),
                       f.discriminator ? fmt::format(" (discriminator {})", f.discriminator) : std::string());
  }
  return out;
}

}  // namespace skbtrail::symbolize
