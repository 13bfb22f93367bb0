// A 64-bit FNV-1a hash, for naming cache files and fingerprinting plans.
// Not a defence against anyone: whatever it names is compared in full
// before it is trusted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace skbtrail {

class Fnv1a {
 public:
  // Each part is hashed with its length, so ("ab","c") and ("a","bc") differ.
  Fnv1a& add(std::string_view part) {
    mix(static_cast<uint64_t>(part.size()));
    for (const char c : part) byte(static_cast<uint8_t>(c));
    return *this;
  }
  uint64_t value() const { return state_; }
  std::string hex() const;  // 16 hex digits

 private:
  void byte(uint8_t b) { state_ = (state_ ^ b) * 0x100000001b3ull; }
  void mix(uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  uint64_t state_ = 0xcbf29ce484222325ull;
};

}  // namespace skbtrail
