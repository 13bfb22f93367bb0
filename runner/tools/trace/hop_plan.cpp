#include "runner/tools/trace/hop_plan.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "runner/common/errors.h"

namespace skbtrail {

TracePlan plan_trace(const std::vector<HopSpec>& list, const HopSelection& selection, const KernelFacts& facts) {
  const KernelInfo& kernel = facts.kernel();
  std::vector<HopSpec> candidates;
  auto known = [&](const std::string& name) {
    return std::any_of(list.begin(), list.end(), [&](const HopSpec& h) { return h.name == name; }) ||
           std::any_of(selection.added.begin(), selection.added.end(), [&](const HopSpec& h) { return h.name == name; });
  };
  for (const auto& name : selection.only)
    if (!known(name))
      throw UsageError(fmt::format("--probes: '{}' is not in the probe list (see the list with skbtrail trace "
                                   "--list-probes, or add it with --add-probe {})",
                                   name, name));
  for (const auto& name : selection.exclude)
    if (!known(name))
      throw UsageError(fmt::format("--exclude: '{}' is not in the probe list (see skbtrail trace --list-probes)", name));

  auto wanted = [&](const HopSpec& hop) {
    if (std::find(selection.exclude.begin(), selection.exclude.end(), hop.name) != selection.exclude.end()) return false;
    if (!selection.only.empty())
      return std::find(selection.only.begin(), selection.only.end(), hop.name) != selection.only.end();
    if (hop.name == "ipt_do_table") return selection.iptables;
    return true;
  };
  for (const auto& hop : list)
    if (wanted(hop)) candidates.push_back(hop);
  for (const auto& hop : selection.added)
    if (std::find(selection.exclude.begin(), selection.exclude.end(), hop.name) == selection.exclude.end())
      candidates.push_back(hop);

  TracePlan plan;
  std::set<std::string> attached_functions;
  std::set<std::string> used_tracepoints;
  auto add = [&](const HopSpec& hop, const std::string& function) {
    PlannedHop planned{hop, function, static_cast<uint16_t>(plan.hops.size()), false, false};
    planned.special_nf = !hop.tracepoint && hop.name == "nf_hook_slow";
    planned.special_ipt = !hop.tracepoint && hop.name == "ipt_do_table";
    plan.hops.push_back(std::move(planned));
  };
  const bool version_known = kernel.version_code != 0;
  // Functions first, so tracepoints that stand in for them know what attached.
  for (const auto& hop : candidates) {
    if (hop.tracepoint) continue;
    if (version_known && ((hop.since && kernel.version_code < hop.since) || (hop.until && kernel.version_code >= hop.until)))
      continue;  // not part of this kernel version: not missing, just absent
    if (!kernel.has_kprobes) {
      plan.missing.emplace_back(hop.name, "this kernel has no kprobes");
      continue;
    }
    std::string found;
    if (facts.has_function(hop.name)) {
      found = hop.name;
    } else {
      for (const auto& alt : hop.also)
        if (facts.has_function(alt)) {
          found = alt;
          break;
        }
    }
    if (found.empty()) {
      plan.missing.emplace_back(hop.name, fmt::format("not in /proc/kallsyms: inlined or renamed on {}", kernel.release));
      continue;
    }
    if (!attached_functions.insert(found).second) continue;
    add(hop, found);
  }
  for (const auto& hop : candidates) {
    if (!hop.tracepoint) continue;
    const bool stands_in = !hop.also.empty();
    if (stands_in && std::any_of(hop.also.begin(), hop.also.end(),
                                 [&](const std::string& f) { return attached_functions.contains(f); }))
      continue;
    if (!facts.has_bpf_tracepoints()) {
      if (!stands_in) plan.missing.emplace_back(hop.name, "BPF programs on tracepoints need kernel 4.7");
      continue;
    }
    if (!facts.has_tracepoint(hop.category(), hop.event())) {
      if (!stands_in) plan.missing.emplace_back(hop.name, fmt::format("no such tracepoint on {}", kernel.release));
      continue;
    }
    if (!used_tracepoints.insert(hop.name).second) continue;
    add(hop, hop.name);
  }
  if (plan.hops.empty())
    throw EnvironmentError(fmt::format("trace: none of the selected hops can be attached on {}: {}", kernel.release,
                                       plan.missing.empty() ? "the selection is empty" : describe_missing(plan.missing)));
  return plan;
}

}  // namespace skbtrail
