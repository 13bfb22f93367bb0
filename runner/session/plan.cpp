#include "runner/session/plan.h"

#include <fmt/format.h>

#include "resources/bundled.h"
#include "runner/bpf/program.h"
#include "runner/common/hash.h"

namespace skbtrail {

Plan start_plan(const KernelFacts& facts, std::string command, std::string program) {
  Plan plan;
  plan.command = std::move(command);
  plan.program = plan.label = std::move(program);
  plan.source = resources::expand_program(plan.program);
  plan.cflags = facts.abi_cflags();
  return plan;
}

void count_output_slots(Plan& plan, const KernelFacts& facts, std::vector<std::string> slots) {
  if (facts.has_percpu_arrays()) plan.output_slots = std::move(slots);
}

std::string no_stack_maps_reason(const KernelFacts& facts) {
  return facts.features_probed()
             ? "this kernel has no BPF stack maps (probed: BPF_MAP_TYPE_STACK_TRACE or bpf_get_stackid refused)"
             : fmt::format("no BPF stack maps on {} (they came in 4.6)", facts.kernel().release);
}

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
