#include "runner/bpf/probes.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/bpf/loader.h"
#include "runner/bpf/program.h"
#include "runner/common/errors.h"

namespace skbtrail {

std::string_view probe_kind_name(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::Kprobe: return "kprobe";
    case ProbeKind::Kretprobe: return "kretprobe";
    case ProbeKind::Tracepoint: return "tracepoint";
    case ProbeKind::RawTracepoint: return "raw_tracepoint";
  }
  return "?";
}

std::string ProbeTarget::describe() const { return fmt::format("{}:{}", probe_kind_name(kind), target); }

namespace {

std::pair<std::string_view, std::string_view> split_tracepoint(std::string_view target) {
  const auto colon = target.find(':');
  if (colon == std::string_view::npos) return {{}, target};
  return {target.substr(0, colon), target.substr(colon + 1)};
}

}  // namespace

std::optional<std::string> unavailable_reason(const ProbeTarget& target, const KernelFacts& facts) {
  const KernelInfo& kernel = facts.kernel();
  switch (target.kind) {
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe:
      if (!kernel.has_kprobes) return "this kernel has no kprobes (CONFIG_KPROBES off)";
      if (!facts.has_function(target.target))
        return fmt::format("function {} is not in /proc/kallsyms (inlined, renamed or absent on {})", target.target,
                           kernel.release);
      return std::nullopt;
    case ProbeKind::Tracepoint: {
      const auto [category, event] = split_tracepoint(target.target);
      if (facts.is_running() && kernel.tracefs.empty()) return "tracefs is not mounted";
      if (!facts.has_bpf_tracepoints()) return "BPF programs on tracepoints need kernel 4.7";
      if (!facts.has_tracepoint(category, event))
        return fmt::format("tracepoint {} does not exist on {}", target.target, kernel.release);
      return std::nullopt;
    }
    case ProbeKind::RawTracepoint:
      if (!facts.has_raw_tracepoints()) return "raw tracepoints need kernel 4.17 or later";
      return std::nullopt;
  }
  return "unknown probe kind";
}

ProbeChoice choose_probe(const ProbeSpec& spec, const KernelFacts& facts) {
  ProbeChoice choice;
  for (const auto& target : spec.choices) {
    if (auto reason = unavailable_reason(target, facts)) {
      choice.passed_over.emplace_back(target.describe(), *reason);
      continue;
    }
    choice.usable = target;
    break;
  }
  return choice;
}

std::string describe_missing(const MissingProbes& missing) {
  // Grouped by reason: 28 hops share "no kprobes" on a kprobe-less kernel.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const auto& [name, why] : missing) {
    // Compared through a plain reference: clang 14 (the fuzz build) cannot
    // capture a structured binding.
    const std::string& reason = why;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == reason; });
    if (it == groups.end()) groups.push_back({why, {name}});
    else it->second.push_back(name);
  }
  std::vector<std::string> parts;
  for (const auto& [why, names] : groups) parts.push_back(fmt::format("{} ({})", fmt::join(names, ", "), why));
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::vector<AttachOutcome> attach_probes(LoadedProgram& program, const std::vector<ProbeSpec>& specs,
                                         const KernelFacts& facts, const std::function<void()>& before_each) {
  std::vector<AttachOutcome> outcomes;
  for (const auto& spec : specs) {
    if (before_each) before_each();
    AttachOutcome outcome{spec.name, std::nullopt, {}};
    for (const auto& choice : spec.choices) {
      if (auto reason = unavailable_reason(choice, facts)) {
        outcome.notes.push_back(fmt::format("{}: {}", choice.describe(), *reason));
        continue;
      }
      StderrCapture capture;  // libbcc_bpf explains failed attaches on stderr
      const std::string error = program.attach(choice);
      const std::string diagnostics = capture.finish();
      if (error.empty()) {
        outcome.attached = choice;
        break;
      }
      // The whole diagnostic: a verifier log ends with its verdict.
      outcome.notes.push_back(fmt::format("{}: attach failed: {}{}", choice.describe(), error,
                                          diagnostics.empty() ? "" : " (" + diagnostics + ")"));
    }
    if (!outcome.attached && spec.required) {
      std::string why;
      for (const auto& note : outcome.notes) why += (why.empty() ? "" : "; ") + note;
      throw EnvironmentError(fmt::format("cannot attach {}: {}", spec.name, why.empty() ? "no probe choices" : why));
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace skbtrail
