// What every fuzz target shares. The contract each parser keeps, on any
// bytes: it returns, or it throws an error the user can act on — a
// std::runtime_error (UsageError, ScenarioError, ...) whose message is one
// line and names the input. Anything else is a bug libFuzzer reports: a
// crash, a sanitizer finding, a hang, or another exception escaping (a
// std::stoi's std::invalid_argument, a std::out_of_range: main() would
// print them without naming the input).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace skbtrail::fuzz {

inline std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs parse(); a refusal must be one line naming `source` (when given).
template <typename Parse>
void accept_or_refuse(Parse&& parse, std::string_view source = {}) {
  try {
    parse();
  } catch (const std::runtime_error& e) {
    const std::string_view message = e.what();
    if (message.empty() || message.find('\n') != std::string_view::npos ||
        (!source.empty() && message.find(source) == std::string_view::npos)) {
      std::fprintf(stderr, "refusal that is not one line naming %.*s: %s\n", static_cast<int>(source.size()),
                   source.data(), e.what());
      std::abort();
    }
  }
}

// A finding that is not a crash (a result that contradicts the input).
inline void require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "broken: %s\n", what);
    std::abort();
  }
}

}  // namespace skbtrail::fuzz
