#include "runner/bpf/stack_map.h"

#include <bcc/libbpf.h>

namespace skbtrail {

std::span<const uint64_t> StackMap::take(int32_t stack_id) {
  if (fd_ < 0 || stack_id < 0) return {};
  int id = stack_id;
  if (bpf_lookup_elem(fd_, &id, frames_) != 0) return {};
  size_t depth = 0;
  while (depth < kMaxDepth && frames_[depth]) ++depth;
  bpf_delete_elem(fd_, &id);
  return {frames_, depth};
}

}  // namespace skbtrail
