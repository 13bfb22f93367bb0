// Kernel stacks captured with BPF_STACK_TRACE, read back by id.
#pragma once

#include <cstdint>
#include <span>

namespace skbtrail {

// Reads stacks by id from a stack map and frees each id after reading, so a
// long run does not fill the map. One buffer, no allocation per event.
class StackMap {
 public:
  explicit StackMap(int fd = -1) : fd_(fd) {}
  // The frames of stack_id (innermost first); empty for ids < 0 or lost ones.
  std::span<const uint64_t> take(int32_t stack_id);

 private:
  static constexpr int kMaxDepth = 127;  // PERF_MAX_STACK_DEPTH
  int fd_;
  uint64_t frames_[kMaxDepth];
};

}  // namespace skbtrail
