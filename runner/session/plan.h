// What a command compiles and attaches on one kernel: its plan. Tools build
// plans from KernelFacts and their options (runner/tools/tool.h); the
// session runs them; doctor and check read the same plans.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "runner/bpf/probes.h"

namespace skbtrail {

struct Plan {
  std::string command;  // "drop"
  std::string program;  // "drop.bpf.c": names the program in messages
  std::string label;    // this configuration, for check: "drop.bpf.c --diag --stack"
  std::string source;   // the whole text BCC compiles
  std::vector<std::string> cflags;  // -D flags beyond the header ones
  std::vector<ProbeSpec> probes;    // in attach order, each with its fallbacks
  std::vector<std::string> perf_tables;  // BPF_PERF_OUTPUT tables events arrive on
  std::string stack_table;               // BPF_STACK_TRACE table; "" when none
  // What this kernel cannot do for the command, and why: said once at
  // start, listed by doctor ("tcp_drop" -> "inlined on 4.19").
  MissingProbes limits;
  // Handlers compiled in that no probe of this kernel uses (check skips them).
  std::set<std::string> never_loaded;
};

}  // namespace skbtrail
