#include "runner/tools/trace/hop_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/common/errors.h"
#include "runner/common/version.h"

namespace skbtrail {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// "4.4-", "3.10-4.1, rhel7": the kernels a line is for, as the list says.
std::string kernels_text(const HopSpec& hop) {
  std::vector<std::string> parts;
  if (hop.any_version)
    parts.push_back(fmt::format("{}-{}", hop.since ? version_text(hop.since) : "", hop.until ? version_text(hop.until) : ""));
  if (hop.rhel7) parts.push_back("RHEL 7");
  return fmt::format("{}", fmt::join(parts, ", "));
}

// The line of `lines` (one hop's, in list order) for this kernel: on RHEL 7
// the lines naming rhel7 when there are any, else the version range.
const HopSpec* line_for(const std::vector<const HopSpec*>& lines, const abi::Kernel& kernel) {
  const bool rhel7 = kernel.is_rhel7();
  const bool has_rhel7_line = std::any_of(lines.begin(), lines.end(), [](const HopSpec* h) { return h->rhel7; });
  for (const HopSpec* hop : lines) {
    if (rhel7 && has_rhel7_line) {
      if (hop->rhel7) return hop;
    } else if (hop->matches_version(kernel.version)) {
      return hop;
    }
  }
  return nullptr;
}

}  // namespace

TracePlan plan_trace(const std::vector<HopSpec>& list, const HopSelection& selection, const KernelFacts& facts) {
  const KernelInfo& kernel = facts.kernel();
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
    if (contains(selection.exclude, hop.name)) return false;
    if (!selection.only.empty())
      return contains(selection.only, hop.name) ||
             std::any_of(selection.only.begin(), selection.only.end(),
                         [&](const std::string& name) { return hop.stands_in_for(name); });
    if (hop.name == "ipt_do_table" || hop.name == "nft_do_chain") return selection.netfilter;
    return true;
  };
  // The wanted lines, grouped by hop name in list order; a hop may have a
  // line per kernel range (its signature changed).
  std::vector<std::string> order;
  std::map<std::string, std::vector<const HopSpec*>> lines;
  auto take = [&](const HopSpec& hop) {
    if (!lines.contains(hop.name)) order.push_back(hop.name);
    lines[hop.name].push_back(&hop);
  };
  for (const auto& hop : list)
    if (wanted(hop)) take(hop);
  for (const auto& hop : selection.added)
    if (!contains(selection.exclude, hop.name)) take(hop);

  TracePlan plan;
  const abi::Kernel abi_kernel = facts.abi();
  // What the reporter reads follows the layout the program was compiled with.
  plan.nft_family_is_the_tables = abi::nft_family_is_the_tables(facts.struct_layouts());
  std::vector<const HopSpec*> candidates;
  for (const auto& name : order) {
    if (const HopSpec* hop = line_for(lines[name], abi_kernel)) {
      candidates.push_back(hop);
      continue;
    }
    // Not part of this kernel: said, never dropped silently.
    std::vector<std::string> ranges;
    for (const HopSpec* h : lines[name]) ranges.push_back(kernels_text(*h));
    plan.missing.emplace_back(name, fmt::format("not on {}: the probe list has it for {}", kernel.release,
                                                fmt::join(ranges, "; ")));
  }

  std::set<std::string> attached_functions;
  std::set<std::string> used_tracepoints;
  auto add = [&](const HopSpec& hop, std::string function, std::vector<std::string> fallbacks) {
    PlannedHop planned{hop, std::move(function), static_cast<uint16_t>(plan.hops.size()), NetfilterPair::None, {}};
    planned.fallbacks = std::move(fallbacks);
    if (!hop.tracepoint && hop.name == "nf_hook_slow") planned.pair = NetfilterPair::Hook;
    if (!hop.tracepoint && hop.name == "ipt_do_table") planned.pair = NetfilterPair::Iptables;
    if (!hop.tracepoint && hop.name == "nft_do_chain") planned.pair = NetfilterPair::Nftables;
    plan.hops.push_back(std::move(planned));
  };
  auto stands_in_for_tracepoint = [](const HopSpec& hop) {
    return std::any_of(hop.also.begin(), hop.also.end(), [](const std::string& a) { return a.starts_with("tp:"); });
  };
  // A function hop: its name, else the first of its other names this
  // kernel has; the rest of those are tried if the attach fails (a
  // function kallsyms lists may still be one ftrace cannot probe).
  auto add_function = [&](const HopSpec& hop) {
    if (!kernel.has_kprobes) {
      plan.missing.emplace_back(hop.name, "this kernel has no kprobes");
      return;
    }
    std::vector<std::string> present;
    if (facts.has_function(hop.name)) present.push_back(hop.name);
    for (const auto& alt : hop.also)
      if (!alt.starts_with("tp:") && facts.has_function(alt)) present.push_back(alt);
    if (present.empty()) {
      plan.missing.emplace_back(hop.name, fmt::format("not in /proc/kallsyms: inlined or renamed on {}", kernel.release));
      return;
    }
    if (hop.name == "nft_do_chain" && facts.headers().btf && !facts.headers().btf_has_nf_tables) {
      // Its reader needs nf_tables' structs; a module's types are in BTF
      // only with CONFIG_DEBUG_INFO_BTF_MODULES (5.11+) and once it is loaded.
      plan.missing.emplace_back(hop.name, fmt::format("nf_tables' types are not in this kernel's BTF (the module is not "
                                                      "loaded, or has no BTF): use --headers headers with "
                                                      "linux-headers-{}",
                                                      kernel.release));
      return;
    }
    if (!attached_functions.insert(present.front()).second) return;
    const std::string function = present.front();
    present.erase(present.begin());
    add(hop, function, std::move(present));
  };
  // Functions first, so tracepoints that stand in for them know what attached.
  for (const HopSpec* hop : candidates)
    if (!hop->tracepoint && !stands_in_for_tracepoint(*hop)) add_function(*hop);
  for (const HopSpec* hop : candidates) {
    if (!hop->tracepoint) continue;
    const bool stands_in = !hop->also.empty();
    if (stands_in && std::any_of(hop->also.begin(), hop->also.end(),
                                 [&](const std::string& f) { return attached_functions.contains(f); }))
      continue;
    // A kprobe of the list stands in for it where tracepoints cannot run BPF.
    const bool has_stand_in = std::any_of(candidates.begin(), candidates.end(),
                                          [&](const HopSpec* h) { return h->stands_in_for(hop->name); });
    if (!facts.has_bpf_tracepoints()) {
      if (!stands_in && !has_stand_in)
        plan.missing.emplace_back(hop->name, facts.features_probed()
                                                 ? "this kernel refuses BPF programs on tracepoints (probed)"
                                                 : "BPF programs on tracepoints need kernel 4.7");
      continue;
    }
    if (!facts.has_tracepoint(hop->category(), hop->event())) {
      if (!stands_in) plan.missing.emplace_back(hop->name, fmt::format("no such tracepoint on {}", kernel.release));
      continue;
    }
    if (!used_tracepoints.insert(hop->name).second) continue;
    add(*hop, hop->name, {});
  }
  // Kprobes standing in for tracepoints that could not be used.
  for (const HopSpec* hop : candidates) {
    if (hop->tracepoint || !stands_in_for_tracepoint(*hop)) continue;
    const bool needed = std::any_of(hop->also.begin(), hop->also.end(), [&](const std::string& tp) {
      return tp.starts_with("tp:") && !used_tracepoints.contains(tp);
    });
    if (needed) add_function(*hop);
  }
  if (plan.hops.empty())
    throw EnvironmentError(fmt::format("trace: none of the selected hops can be attached on {}: {}", kernel.release,
                                       plan.missing.empty() ? "the selection is empty" : describe_missing(plan.missing)));
  return plan;
}

}  // namespace skbtrail
