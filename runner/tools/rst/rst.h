// skbtrail rst: every RST this host sends or receives, classified into a
// cause with its evidence and advice (rules in scripts/rst.rules).
#pragma once

#include <string>
#include <vector>

#include "runner/bpf/filter.h"
#include "runner/kernel/facts.h"
#include "runner/session/plan.h"
#include "runner/session/run_options.h"
#include "runner/tools/options.h"
#include "runner/tools/tool.h"

namespace skbtrail {

struct RstOptions {
  RunOptions run;
  PacketFilter filter;
  std::vector<std::string> rule_files;  // --rules FILE
  bool stack = false;                   // print the whole stack, not only the key frame
  bool summary = true;
  bool blame = true;  // a REJECT's RST names the rule (ruleset counters); --no-blame
  PcapOptions pcap;   // --pcap: the segments the RSTs answer
};

// What rst compiles and attaches on this kernel with these options.
Plan rst_plan(const KernelFacts& facts, const RstOptions& options);

const Tool& rst_tool();

}  // namespace skbtrail
