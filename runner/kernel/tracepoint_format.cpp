#include "runner/kernel/tracepoint_format.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "runner/common/text.h"

namespace skbtrail {

namespace {


// "field:enum skb_drop_reason reason;\toffset:36;\tsize:4;\tsigned:0;"
TracepointField parse_field_line(std::string_view line) {
  auto take = [&](std::string_view key) -> std::string_view {
    const auto at = line.find(key);
    if (at == std::string_view::npos) throw std::runtime_error(fmt::format("missing '{}' in format line: {}", key, line));
    const auto start = at + key.size();
    const auto end = line.find(';', start);
    if (end == std::string_view::npos) throw std::runtime_error(fmt::format("unterminated '{}' in format line: {}", key, line));
    return trim(line.substr(start, end - start));
  };
  auto number = [&](std::string_view key) {
    const auto text = take(key);
    int value = 0;
    if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc())
      throw std::runtime_error(fmt::format("bad number for '{}' in format line: {}", key, line));
    return value;
  };

  TracepointField field;
  std::string_view decl = take("field:");
  if (const auto bracket = decl.find('['); bracket != std::string_view::npos) {
    const auto len_text = decl.substr(bracket + 1, decl.find(']', bracket) - bracket - 1);
    std::from_chars(len_text.data(), len_text.data() + len_text.size(), field.array_length);
    decl = trim(decl.substr(0, bracket));
  }
  const auto space = decl.find_last_of(" *");
  if (space == std::string_view::npos) throw std::runtime_error(fmt::format("no field name in format line: {}", line));
  field.name = std::string(decl.substr(space + 1));
  field.type = std::string(trim(decl.substr(0, space + 1)));
  field.offset = number("offset:");
  field.size = number("size:");
  field.is_signed = line.find("signed:") != std::string_view::npos && number("signed:") != 0;
  return field;
}

// Index just past the ')' matching the '(' at `open`, skipping string literals.
size_t matching_paren(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
    } else if (s[i] == '(') {
      ++depth;
    } else if (s[i] == ')' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Body of __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" })
SymbolicTable parse_symbolic(std::string_view body) {
  SymbolicTable table;
  const auto comma = body.find(',');
  std::string_view subject = trim(body.substr(0, comma));
  if (subject.starts_with("REC->")) subject.remove_prefix(5);
  table.field = std::string(subject);
  size_t pos = comma;
  while (pos != std::string_view::npos) {
    const auto open = body.find('{', pos);
    if (open == std::string_view::npos) break;
    const auto sep = body.find(',', open);
    const auto quote = body.find('"', open);
    const auto end_quote = quote == std::string_view::npos ? quote : body.find('"', quote + 1);
    const auto close = end_quote == std::string_view::npos ? end_quote : body.find('}', end_quote);
    if (sep == std::string_view::npos || close == std::string_view::npos || sep > quote)
      throw std::runtime_error(fmt::format("malformed __print_symbolic entry near: {}", body.substr(open, 40)));
    table.entries.emplace_back(std::string(trim(body.substr(open + 1, sep - open - 1))),
                               std::string(body.substr(quote + 1, end_quote - quote - 1)));
    pos = close + 1;
  }
  return table;
}

std::optional<int64_t> parse_integer(std::string_view token) {
  token = trim(token);
  bool negative = false;
  if (token.starts_with('-')) {
    negative = true;
    token.remove_prefix(1);
  }
  int base = 10;
  if (token.starts_with("0x") || token.starts_with("0X")) {
    base = 16;
    token.remove_prefix(2);
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value, base);
  if (ec != std::errc() || token.empty()) return std::nullopt;
  // Tolerate C suffixes like 1U / 2UL.
  for (const char* p = end; p != token.data() + token.size(); ++p)
    if (*p != 'u' && *p != 'U' && *p != 'l' && *p != 'L') return std::nullopt;
  return negative ? -value : value;
}

}  // namespace

const TracepointField* TracepointFormat::field(std::string_view field_name) const {
  for (const auto& f : fields)
    if (f.name == field_name) return &f;
  return nullptr;
}

const SymbolicTable* TracepointFormat::symbolic_for(std::string_view field_name) const {
  for (const auto& t : symbolic)
    if (t.field == field_name) return &t;
  return nullptr;
}

TracepointFormat parse_tracepoint_format(std::string_view text) {
  TracepointFormat format;
  format.text = std::string(text);
  std::istringstream in{std::string(text)};
  for (std::string raw; std::getline(in, raw);) {
    const std::string_view line = trim(raw);
    if (line.starts_with("name:")) {
      format.name = std::string(trim(line.substr(5)));
    } else if (line.starts_with("ID:")) {
      const auto id = parse_integer(line.substr(3));
      format.id = id ? static_cast<uint32_t>(*id) : 0;
    } else if (line.starts_with("field:")) {
      format.fields.push_back(parse_field_line(line));
    } else if (line.starts_with("print fmt:")) {
      format.print_fmt = std::string(trim(line.substr(10)));
    }
  }
  if (format.fields.empty()) throw std::runtime_error("no 'field:' lines: not a tracepoint format file");

  const std::string_view fmt_text = format.print_fmt;
  constexpr std::string_view kSymbolic = "__print_symbolic(";
  for (size_t at = fmt_text.find(kSymbolic); at != std::string_view::npos; at = fmt_text.find(kSymbolic, at + 1)) {
    const size_t open = at + kSymbolic.size() - 1;
    const size_t end = matching_paren(fmt_text, open);
    if (end == std::string_view::npos) throw std::runtime_error("unbalanced __print_symbolic( in print fmt");
    format.symbolic.push_back(parse_symbolic(fmt_text.substr(open + 1, end - open - 2)));
  }
  return format;
}

TracepointFormat read_tracepoint_format(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  try {
    return parse_tracepoint_format(text);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", path.string(), e.what()));
  }
}

ValueNames::ValueNames(const SymbolicTable& table, const EnumResolver& resolve) {
  for (const auto& [token, label] : table.entries) {
    std::optional<int64_t> value = parse_integer(token);
    if (!value && resolve) value = resolve(token);
    if (value) names_.emplace(*value, label);
  }
}

std::optional<std::string_view> ValueNames::name(int64_t value) const {
  if (const auto it = names_.find(value); it != names_.end()) return it->second;
  return std::nullopt;
}

std::string ValueNames::name_or_number(int64_t value) const {
  if (const auto n = name(value)) return std::string(*n);
  return std::to_string(value);
}

std::string tracepoint_struct(const TracepointFormat& format, const std::string& name,
                              const std::vector<std::string>& fields) {
  std::vector<const TracepointField*> chosen;
  for (const auto& wanted : fields)
    if (const auto* f = format.field(wanted)) chosen.push_back(f);
  std::sort(chosen.begin(), chosen.end(), [](const auto* a, const auto* b) { return a->offset < b->offset; });
  std::string text = fmt::format("struct {} {{\n", name);
  std::string checks;
  int at = 0;
  for (const auto* f : chosen) {
    if (f->offset < at) continue;  // overlapping fields: a malformed format; keep the first
    // Plain C types: this text comes before any header is included.
    if (f->offset > at) fmt::format_to(std::back_inserter(text), "  unsigned char __pad_{}[{}];\n", at, f->offset - at);
    static constexpr const char* kTypes[] = {nullptr, "char", "short", nullptr, "int", nullptr, nullptr, nullptr, "long long"};
    const bool scalar = f->array_length == 0 && f->size > 0 && f->size <= 8 && kTypes[f->size];
    if (scalar)
      fmt::format_to(std::back_inserter(text), "  {} {} {};\n", f->is_signed ? "signed" : "unsigned", kTypes[f->size],
                     f->name);
    else
      fmt::format_to(std::back_inserter(text), "  unsigned char {}[{}];\n", f->name, f->size);
    fmt::format_to(std::back_inserter(checks), "_Static_assert(__builtin_offsetof(struct {}, {}) == {}, \"{}\");\n",
                   name, f->name, f->offset, f->name);
    at = f->offset + f->size;
  }
  text += "};\n";
  return text + checks;
}

}  // namespace skbtrail
