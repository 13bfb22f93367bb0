#include "runner/tools/tool.h"

#include <fmt/format.h>

#include "runner/common/errors.h"

namespace skbtrail {

Command Command::show(std::string text) {
  Command c;
  c.text_ = std::move(text);
  return c;
}

Plan Tool::default_plan(const KernelFacts&) const {
  throw UsageError(fmt::format("'{}' does not trace: it has no plan", name()));
}

std::vector<Plan> Tool::check_plans(const KernelFacts&) const { return {}; }

Plan Tool::plan_of(const Command&, const KernelFacts& facts) const { return default_plan(facts); }
std::string Tool::program_options_of(const Command&) const { return {}; }
const RunOptions* Tool::run_options_in(const Command&) const { return nullptr; }

const Tool* find_tool(std::string_view name) {
  for (const Tool* tool : tools())
    if (tool->name() == name) return tool;
  return nullptr;
}

std::vector<std::string> tracing_tool_names() {
  std::vector<std::string> names;
  for (const Tool* tool : tools())
    if (tool->traces()) names.emplace_back(tool->name());
  return names;
}

}  // namespace skbtrail
