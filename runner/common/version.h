// Kernel version codes, as the kernel's KERNEL_VERSION() computes them, and
// their text forms. Every layer compares versions; none needs more than this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace skbtrail {

// KERNEL_VERSION(a, b, c) as the kernel computes it (sublevel capped at 255).
constexpr uint32_t kernel_version(uint32_t major, uint32_t minor, uint32_t sublevel) {
  return (major << 16) + (minor << 8) + (sublevel > 255 ? 255 : sublevel);
}

// A release string: "6.18.44-fc-v769" -> KERNEL_VERSION(6, 18, 44); nullopt
// when it does not start with major.minor.
std::optional<uint32_t> parse_version_code(std::string_view release);

// A version typed by a user: "4.9" or "4.9.0", digits only; nullopt otherwise.
std::optional<uint32_t> parse_kernel_version(std::string_view text);

std::string format_version_code(uint32_t code);  // "6.18.44"
std::string version_text(uint32_t code);         // "4.9"

}  // namespace skbtrail
