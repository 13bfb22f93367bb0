#include "runner/probes.h"

#include <bcc/BPF.h>

#include <fmt/format.h>

#include "runner/bpf_program.h"
#include "runner/errors.h"
#include "runner/kallsyms.h"

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

std::optional<std::string> unavailable_reason(const ProbeTarget& target, const KernelInfo& kernel,
                                              const Kallsyms* kallsyms) {
  switch (target.kind) {
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe:
      if (!kernel.has_kprobes) return "this kernel has no kprobes (CONFIG_KPROBES off)";
      if (kallsyms && kallsyms->size() > 0 && !kallsyms->has_function(target.target))
        return fmt::format("function {} is not in /proc/kallsyms (inlined, renamed or absent on {})", target.target,
                           kernel.release);
      return std::nullopt;
    case ProbeKind::Tracepoint: {
      const auto [category, event] = split_tracepoint(target.target);
      if (kernel.tracefs.empty()) return "tracefs is not mounted";
      if (!has_bpf_tracepoints(kernel)) return "BPF programs on tracepoints need kernel 4.7";
      if (!kernel.has_tracepoint(category, event))
        return fmt::format("tracepoint {} does not exist on {}", target.target, kernel.release);
      return std::nullopt;
    }
    case ProbeKind::RawTracepoint: {
      if (kernel.version_code && kernel.version_code < kernel_version(4, 17, 0))
        return "raw tracepoints need kernel 4.17 or later";
      return std::nullopt;
    }
  }
  return "unknown probe kind";
}

namespace {

ebpf::StatusTuple attach_one(ebpf::BPF& bpf, const ProbeTarget& target) {
  switch (target.kind) {
    case ProbeKind::Kprobe: return bpf.attach_kprobe(target.target, target.handler, 0, BPF_PROBE_ENTRY);
    case ProbeKind::Kretprobe: return bpf.attach_kprobe(target.target, target.handler, 0, BPF_PROBE_RETURN);
    case ProbeKind::Tracepoint: return bpf.attach_tracepoint(target.target, target.handler);
    case ProbeKind::RawTracepoint: {
      const auto [category, event] = split_tracepoint(target.target);
      return bpf.attach_raw_tracepoint(std::string(event), target.handler);
    }
  }
  return ebpf::StatusTuple(-1, "unknown probe kind");
}

}  // namespace

std::vector<AttachOutcome> attach_probes(BpfProgram& program, const std::vector<ProbeSpec>& specs,
                                         const KernelInfo& kernel, const Kallsyms* kallsyms) {
  std::vector<AttachOutcome> outcomes;
  for (const auto& spec : specs) {
    AttachOutcome outcome{spec.name, std::nullopt, {}};
    for (const auto& choice : spec.choices) {
      if (auto reason = unavailable_reason(choice, kernel, kallsyms)) {
        outcome.notes.push_back(fmt::format("{}: {}", choice.describe(), *reason));
        continue;
      }
      StderrCapture capture;
      const auto status = attach_one(program.bpf(), choice);
      const std::string diagnostics = capture.finish();
      if (status.ok()) {
        outcome.attached = choice;
        break;
      }
      outcome.notes.push_back(fmt::format("{}: attach failed: {}{}", choice.describe(), status.msg(),
                                          diagnostics.empty() ? "" : " (" + diagnostics.substr(0, 200) + ")"));
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
