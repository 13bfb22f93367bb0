// Which hops of the probe list (runner/data/probe_list.h) `skbtrail trace`
// attaches on this kernel: the user's selection, the kernel version ranges,
// renamed functions, and tracepoints standing in for functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/bpf/probes.h"
#include "runner/data/probe_list.h"
#include "runner/kernel/facts.h"

namespace skbtrail {

struct HopSelection {
  std::vector<std::string> only;     // --probes a,b,c (names from the list, or added)
  std::vector<HopSpec> added;        // --add-probe / --probes @file entries
  std::vector<std::string> exclude;  // --exclude
  bool iptables = false;             // --iptable: include ipt_do_table

  static HopSelection everything() {  // the whole list, ipt_do_table included
    HopSelection all;
    all.iptables = true;
    return all;
  }
};

struct PlannedHop {
  HopSpec spec;
  std::string function;  // the name attached (an ALSO name when the main one is absent)
  uint16_t id = 0;
  bool special_nf = false;   // nf_hook_slow entry/return pair
  bool special_ipt = false;  // ipt_do_table entry/return pair
  // Other names of the function on this kernel, tried in order when
  // `function` will not attach.
  std::vector<std::string> fallbacks;
};

struct TracePlan {
  std::vector<PlannedHop> hops;
  // Hops left out, with why ("this kernel has no kprobes"); reported once.
  MissingProbes missing;
};

// Applies the selection and this kernel's abilities. Throws EnvironmentError
// when nothing is left, UsageError for a --probes/--exclude name not in the list.
TracePlan plan_trace(const std::vector<HopSpec>& list, const HopSelection& selection, const KernelFacts& facts);

}  // namespace skbtrail
