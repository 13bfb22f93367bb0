#include "runner/stacks.h"

#include <bcc/libbpf.h>

#include <cstdio>
#include <iterator>

#include <fmt/format.h>

#include "runner/kallsyms.h"
#include "runner/packet_format.h"
#include "symbolize/kernel_symbols.h"

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

const std::string& AddressNamer::describe(uint64_t address, bool return_address) const {
  // Locations and stacks repeat: one lookup per distinct address, not per event.
  auto& cache = annotated_[return_address && symbols_ ? 1 : 0];
  if (const auto it = cache.find(address); it != cache.end()) return it->second;
  std::string name = kallsyms_.describe(address);
  if (symbols_ && kallsyms_.lookup(address)) {
    symbolize::Options options;
    options.return_address = return_address;
    name = symbols_->annotate(name, options);
  }
  return cache.emplace(address, std::move(name)).first->second;
}

std::unique_ptr<symbolize::KernelSymbols> open_symbols_or_explain(const std::optional<std::string>& request,
                                                                  const char* command) {
  if (!request) return nullptr;
  try {
    symbolize::KernelSymbolsOptions options;
    options.vmlinux = *request;
    return std::make_unique<symbolize::KernelSymbols>(options);
  } catch (const symbolize::SymbolizeError& e) {
    std::fprintf(stderr, "skbtrail %s: --symbolize: %s; printing func+0xoff only\n", command, e.what());
    return nullptr;
  }
}

void append_stack_text(std::string& out, const AddressNamer& names, std::span<const uint64_t> stack) {
  // The first frame is where the probe fired, the others are return addresses.
  for (size_t i = 0; i < stack.size(); ++i)
    fmt::format_to(std::back_inserter(out), "    {}\n", names.describe(stack[i], i > 0));
}

void append_stack_json(std::string& out, const AddressNamer& names, std::span<const uint64_t> stack) {
  if (stack.empty()) return;
  out += ",\"stack\":[";
  for (size_t i = 0; i < stack.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, names.describe(stack[i], i > 0));
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
