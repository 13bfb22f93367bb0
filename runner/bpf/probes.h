// Probes described as data: what to attach where, with fallbacks for
// kernels that lack a mechanism (no kprobes) or a symbol (renamed function).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/kernel/facts.h"

namespace skbtrail {

class LoadedProgram;

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
std::optional<std::string> unavailable_reason(const ProbeTarget& target, const KernelFacts& facts);

// Things that could not be attached, with why: (name, reason) pairs grouped
// by reason: "a, b (this kernel has no kprobes); c (no such tracepoint)".
using MissingProbes = std::vector<std::pair<std::string, std::string>>;
std::string describe_missing(const MissingProbes& missing);

// The first choice of `spec` this kernel can attach, with why the earlier
// ones cannot; nullopt (and every reason) when none can.
struct ProbeChoice {
  std::optional<ProbeTarget> usable;
  MissingProbes passed_over;  // ("kprobe:f", "this kernel has no kprobes")
};
ProbeChoice choose_probe(const ProbeSpec& spec, const KernelFacts& facts);

// Attaches each spec's first usable choice. A required spec that attaches
// nothing throws EnvironmentError after the others are released (the
// program's destructor detaches whatever did attach). `before_each` runs
// before each spec and may throw to stop there (a signal arrived).
std::vector<AttachOutcome> attach_probes(LoadedProgram& program, const std::vector<ProbeSpec>& specs,
                                         const KernelFacts& facts, const std::function<void()>& before_each = {});

}  // namespace skbtrail
