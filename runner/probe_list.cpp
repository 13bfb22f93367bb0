#include "runner/probe_list.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "programs/bundled.h"
#include "runner/errors.h"
#include "runner/kallsyms.h"

namespace skbtrail {

std::string HopSpec::category() const {
  const auto first = name.find(':');
  const auto second = name.find(':', first + 1);
  return name.substr(first + 1, second - first - 1);
}

std::string HopSpec::event() const { return name.substr(name.find(':', name.find(':') + 1) + 1); }

namespace {

const std::set<std::string, std::less<>> kLayers = {"link", "ip", "ipv6", "netfilter", "tcp", "udp", "icmp",
                                                     "device", "socket", "drop", "free", "custom"};

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  if (text == "-" || text.empty()) return parts;
  size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto part = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!part.empty()) parts.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

bool valid_function_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

}  // namespace

std::vector<HopSpec> parse_probe_list(std::string_view text, const std::string& source) {
  std::vector<HopSpec> hops;
  std::istringstream in{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const auto hash = line.find('#');
    std::istringstream words(line.substr(0, hash));
    std::vector<std::string> columns;
    for (std::string w; columns.size() < 5 && words >> w;) columns.push_back(w);
    if (columns.empty()) continue;
    std::string description;
    std::getline(words >> std::ws, description);

    auto fail = [&](const std::string& what) {
      return UsageError(fmt::format("{}:{}: {}", source, number, what));
    };
    HopSpec hop;
    hop.origin = fmt::format("{}:{}", source, number);
    hop.name = columns[0];
    hop.description = description;
    if (hop.name.starts_with("tp:")) {
      hop.tracepoint = true;
      if (std::count(hop.name.begin(), hop.name.end(), ':') != 2 || hop.category().empty() || hop.event().empty())
        throw fail(fmt::format("'{}': a tracepoint is written tp:CATEGORY:EVENT (e.g. tp:skb:kfree_skb)", hop.name));
    } else if (!valid_function_name(hop.name)) {
      throw fail(fmt::format("'{}' is not a kernel function name", hop.name));
    }
    if (columns.size() >= 2) {
      if (hop.tracepoint) {
        hop.skb_field = columns[1];
      } else {
        const auto& arg = columns[1];
        if (arg.size() != 1 || arg[0] < '1' || arg[0] > '5')
          throw fail(fmt::format("SKB '{}': the skb argument is a number from 1 to 5", arg));
        hop.skb_arg = arg[0] - '0';
      }
    }
    if (columns.size() >= 3) {
      if (!kLayers.contains(columns[2]))
        throw fail(fmt::format("LAYER '{}': use one of {}", columns[2], fmt::join(kLayers, ", ")));
      hop.layer = columns[2];
    }
    if (columns.size() >= 4 && columns[3] != "-") {
      const auto& range = columns[3];
      const auto dash = range.find('-');
      const auto since = parse_version_code(range.substr(0, dash));
      const auto until = dash == std::string::npos || dash + 1 == range.size()
                             ? std::optional<uint32_t>(0)
                             : parse_version_code(range.substr(dash + 1));
      if (dash == std::string::npos || !since || !until)
        throw fail(fmt::format("KERNELS '{}': write X.Y- (from X.Y on) or X.Y-A.B (X.Y up to, not including, A.B)",
                               range));
      hop.since = *since;
      hop.until = *until;
    }
    if (columns.size() >= 5) hop.also = split_commas(columns[4]);
    hops.push_back(std::move(hop));
  }
  return hops;
}

std::vector<HopSpec> default_probe_list() {
  return parse_probe_list(programs::bundled_text("trace.probes"), "trace.probes (built in)");
}

HopSpec parse_added_probe(std::string_view text) {
  HopSpec hop;
  hop.origin = "--add-probe";
  const auto colon = text.find(':');
  hop.name = std::string(text.substr(0, colon));
  if (!valid_function_name(hop.name))
    throw UsageError(fmt::format("--add-probe '{}': expected FUNCTION or FUNCTION:argN (e.g. --add-probe "
                                 "ip_route_input_noref:arg1)",
                                 text));
  if (colon != std::string_view::npos) {
    const auto arg = text.substr(colon + 1);
    if (arg.size() != 4 || !arg.starts_with("arg") || arg[3] < '1' || arg[3] > '5')
      throw UsageError(fmt::format("--add-probe '{}': the skb argument is arg1 to arg5 (e.g. {}:arg2)", text,
                                   hop.name));
    hop.skb_arg = arg[3] - '0';
  }
  hop.description = "added with --add-probe";
  return hop;
}

std::string describe_missing(const std::vector<std::pair<std::string, std::string>>& missing) {
  // Grouped by reason: 28 hops share "no kprobes" on a kprobe-less kernel.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const auto& [name, why] : missing) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == why; });
    if (it == groups.end()) groups.push_back({why, {name}});
    else it->second.push_back(name);
  }
  std::vector<std::string> parts;
  for (const auto& [why, names] : groups) parts.push_back(fmt::format("{} ({})", fmt::join(names, ", "), why));
  return fmt::format("{}", fmt::join(parts, "; "));
}

TracePlan plan_trace(const std::vector<HopSpec>& list, const HopSelection& selection, const KernelInfo& kernel,
                     const Kallsyms& kallsyms) {
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
    if (kallsyms.size() == 0 || kallsyms.has_function(hop.name)) {
      found = hop.name;
    } else {
      for (const auto& alt : hop.also)
        if (kallsyms.has_function(alt)) {
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
    if (!has_bpf_tracepoints(kernel)) {
      if (!stands_in) plan.missing.emplace_back(hop.name, "BPF programs on tracepoints need kernel 4.7");
      continue;
    }
    if (!kernel.has_tracepoint(hop.category(), hop.event())) {
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
