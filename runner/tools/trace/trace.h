// skbtrail trace: the path of matching packets through the stack, hop by
// hop, with netfilter verdicts, drops and stacks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runner/bpf/filter.h"
#include "runner/kernel/facts.h"
#include "runner/session/plan.h"
#include "runner/session/run_options.h"
#include "runner/tools/options.h"
#include "runner/tools/tool.h"
#include "runner/tools/trace/hop_plan.h"

namespace skbtrail {

struct TraceOptions {
  RunOptions run;
  PacketFilter filter;
  std::optional<uint16_t> icmp_id;
  HopSelection hops;
  std::string probes_file;  // --probes @FILE: replaces the built-in list
  bool callstack = false;
  bool dropstack = false;
  bool keep = false;
  bool explain = false;
  bool date = false;          // -T
  bool boot_seconds = false;  // -t
  bool list_probes = false;
  PcapOptions pcap;  // --pcap: the packet at every hop that has it
};

// The hop list the options select from: the built-in one, or --probes @FILE.
std::vector<HopSpec> trace_probe_list(const TraceOptions& options);

// What trace compiles and attaches for these hops with these options.
Plan trace_plan(const KernelFacts& facts, const TraceOptions& options, const TracePlan& hops);

// The per-hop handlers appended to trace.bpf.c (a piece of the plan).
std::string trace_handlers(const TracePlan& hops);

const Tool& trace_tool();

}  // namespace skbtrail
