#include "runner/common/version.h"

#include <charconv>

#include <fmt/format.h>

namespace skbtrail {

std::optional<uint32_t> parse_version_code(std::string_view release) {
  uint32_t parts[3] = {0, 0, 0};
  const char* p = release.data();
  const char* end = release.data() + release.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc()) {
      if (i < 2) return std::nullopt;  // need at least major.minor
      break;
    }
    p = next;
    if (p == end || *p != '.') break;
    ++p;
  }
  return kernel_version(parts[0], parts[1], parts[2]);
}

std::optional<uint32_t> parse_kernel_version(std::string_view text) {
  uint32_t parts[3] = {0, 0, 0};
  size_t count = 0;
  while (count < 3) {
    const auto dot = text.find('.');
    const std::string_view part = text.substr(0, dot);
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), parts[count]);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size()) return std::nullopt;
    ++count;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (count == 3) return std::nullopt;  // a fourth part
  }
  if (count < 2 || parts[0] < 2 || parts[0] > 9 || parts[1] > 255) return std::nullopt;
  return kernel_version(parts[0], parts[1], parts[2]);
}

std::string format_version_code(uint32_t code) {
  return fmt::format("{}.{}.{}", code >> 16, (code >> 8) & 0xff, code & 0xff);
}

std::string version_text(uint32_t code) { return fmt::format("{}.{}", code >> 16, (code >> 8) & 0xff); }

}  // namespace skbtrail
