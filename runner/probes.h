// Probes described as data: what to attach where, with fallbacks for
// kernels that lack a mechanism (no kprobes) or a symbol (renamed function).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/kernel_info.h"

namespace skbtrail {

class BpfProgram;
class Kallsyms;

enum class ProbeKind { Kprobe, Kretprobe, Tracepoint, RawTracepoint };

std::string_view probe_kind_name(ProbeKind kind);

struct ProbeTarget {
  ProbeKind kind = ProbeKind::Tracepoint;
  std::string target;   // function name, or "category:event" for tracepoints
  std::string handler;  // BPF function in the program

  std::string describe() const;  // "kprobe:tcp_v4_send_reset", "tracepoint:skb:kfree_skb"
};

struct ProbeSpec {
  std::string name;                  // what users call it, e.g. "kfree_skb"
  std::vector<ProbeTarget> choices;  // in order of preference; the first usable one wins
  bool required = false;             // the command cannot run without it
};

struct AttachOutcome {
  std::string name;
  std::optional<ProbeTarget> attached;
  std::vector<std::string> notes;  // why earlier choices were passed over, or why nothing attached
};

// Why this kernel cannot attach `target`, or nullopt when it can.
std::optional<std::string> unavailable_reason(const ProbeTarget& target, const KernelInfo& kernel,
                                              const Kallsyms* kallsyms);

// Attaches each spec's first usable choice. A required spec that attaches
// nothing throws EnvironmentError after the others are released (the
// program's destructor detaches whatever did attach).
std::vector<AttachOutcome> attach_probes(BpfProgram& program, const std::vector<ProbeSpec>& specs,
                                         const KernelInfo& kernel, const Kallsyms* kallsyms);

}  // namespace skbtrail
