#include "runner/stacks.h"

#include <bcc/libbpf.h>

#include <iterator>

#include <fmt/format.h>

#include "runner/kallsyms.h"
#include "runner/packet_format.h"

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

void append_stack_text(std::string& out, const Kallsyms& kallsyms, std::span<const uint64_t> stack) {
  for (const uint64_t ip : stack) fmt::format_to(std::back_inserter(out), "    {}\n", kallsyms.describe(ip));
}

void append_stack_json(std::string& out, const Kallsyms& kallsyms, std::span<const uint64_t> stack) {
  if (stack.empty()) return;
  out += ",\"stack\":[";
  for (size_t i = 0; i < stack.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, kallsyms.describe(stack[i]));
  }
  out += ']';
}

void append_lost_line(std::string& out, bool json, int cpu, uint64_t count) {
  if (json)
    fmt::format_to(std::back_inserter(out), "{{\"type\":\"lost\",\"cpu\":{},\"count\":{}}}\n", cpu, count);
  else
    fmt::format_to(std::back_inserter(out),
                   "*** lost {} events on CPU {} (perf ring full: raise --perf-pages or narrow the filter)\n", count,
                   cpu);
}

}  // namespace skbtrail
