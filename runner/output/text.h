// Small text pieces the text writers share. Allocation-free: callers append
// into a reused buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace skbtrail {

void append_uint(std::string& out, uint64_t value);  // decimal

// s, then spaces up to width (left-aligned), or spaces first (right-aligned).
void append_padded(std::string& out, std::string_view s, size_t width);
void append_padded_right(std::string& out, std::string_view s, size_t width);

// The NUL-terminated prefix of a fixed char array from the kernel.
std::string_view fixed_string(const char* data, size_t capacity);
template <size_t N>
std::string_view fixed_string(const char (&data)[N]) {
  return fixed_string(data, N);
}

}  // namespace skbtrail
