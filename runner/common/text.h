// Small text helpers the data-file parsers share (rules, profiles,
// tracepoint formats).
#pragma once

#include <string_view>

namespace skbtrail {

// s without leading and trailing blanks (spaces, tabs, CR, LF).
inline std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace skbtrail
