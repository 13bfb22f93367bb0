// skbtrail drop: every skb the kernel drops, with where and why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/bpf/filter.h"
#include "runner/kernel/facts.h"
#include "runner/session/plan.h"
#include "runner/session/run_options.h"
#include "runner/tools/options.h"
#include "runner/tools/tool.h"

namespace skbtrail {

struct DropOptions {
  RunOptions run;
  PacketFilter filter;
  bool stack = false;
  bool summary = true;
  bool diag = false;        // --diag: explain each drop from scripts/drop.rules
  bool diag_quiet = false;  // --diag-quiet: print only warn/error drops
  std::vector<std::string> rule_files;  // --rules FILE
  bool blame = true;          // name the netfilter rule of a netfilter drop (--no-blame: off)
  PcapOptions pcap;           // --pcap FILE --snaplen N
  std::string record;         // --record FILE: keep the raw samples
  std::string replay;         // --replay FILE: print a recording, no kernel involved
  uint32_t replay_repeat = 1; // --replay-repeat N: feed it N times (benchmarks)
};

// What drop compiles and attaches on this kernel with these options.
Plan drop_plan(const KernelFacts& facts, const DropOptions& options);

const Tool& drop_tool();

}  // namespace skbtrail
