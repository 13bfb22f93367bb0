#include "runner/output/text.h"

#include <cstring>

#include <fmt/format.h>

namespace skbtrail {

void append_uint(std::string& out, uint64_t value) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}

void append_padded(std::string& out, std::string_view s, size_t width) {
  out += s;
  if (s.size() < width) out.append(width - s.size(), ' ');
}

void append_padded_right(std::string& out, std::string_view s, size_t width) {
  if (s.size() < width) out.append(width - s.size(), ' ');
  out += s;
}

std::string_view fixed_string(const char* data, size_t capacity) { return {data, ::strnlen(data, capacity)}; }

}  // namespace skbtrail
