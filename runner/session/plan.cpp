#include "runner/session/plan.h"

#include <fmt/format.h>

#include "runner/bpf/program.h"
#include "runner/common/hash.h"

namespace skbtrail {

void add_tracepoint_struct(Plan& plan, const KernelFacts& facts, const std::string& category, const std::string& event,
                           const std::vector<std::string>& fields) {
  const TracepointFormat* format = facts.tracepoint_format(category, event);
  if (!format || plan.tracepoints.contains(category + ":" + event)) return;
  const std::string text = tracepoint_struct(*format, tracepoint_struct_name(category, event), fields);
  plan.tracepoints[category + ":" + event] = {fields, format->text, text};
  plan.source.insert(0, text);
}

BpfObject compile_plan(const Plan& plan, const HeaderChoice& headers) {
  BpfObject object = compile_program({plan.program, plan.cflags, headers, plan.source});
  std::vector<uint32_t> placeholders;
  for (const auto& late : plan.constants) placeholders.push_back(late.placeholder);
  find_constant_uses(object, placeholders);
  return object;
}

std::string tracepoint_struct_name(const std::string& category, const std::string& event) {
  return fmt::format("skbtrail_tp_{}_{}", category, event);
}

std::string plan_fingerprint(const Plan& plan) {
  Fnv1a hash;
  hash.add(plan.source);
  for (const auto& flag : plan.cflags) hash.add(flag);
  return hash.hex();
}

}  // namespace skbtrail
