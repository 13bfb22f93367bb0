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
  bool netfilter = false;            // --netfilter (--iptable): include ipt_do_table and nft_do_chain

  static HopSelection everything() {  // the whole list, the netfilter tables included
    HopSelection all;
    all.netfilter = true;
    return all;
  }
};

// Hops traced as an entry/return pair: the entry keeps the packet (the skb
// may be gone when a drop verdict returns), the return adds the verdict.
enum class NetfilterPair : uint8_t {
  None,
  Hook,      // nf_hook_slow: family, hook, verdict
  Iptables,  // ipt_do_table: pf.table.CHAIN.VERDICT
  Nftables,  // nft_do_chain: family table chain VERDICT
};

struct PlannedHop {
  HopSpec spec;
  std::string function;  // the name attached (an ALSO name when the main one is absent)
  uint16_t id = 0;
  NetfilterPair pair = NetfilterPair::None;
  // Other names of the function on this kernel, tried in order when
  // `function` will not attach.
  std::vector<std::string> fallbacks;
};

struct TracePlan {
  std::vector<PlannedHop> hops;
  // Hops left out, with why ("this kernel has no kprobes"); reported once.
  MissingProbes missing;
  // nft_do_chain's family is its table's (inet, bridge; 4.16+), else the hook's.
  bool nft_family_is_the_tables = true;
};

// Applies the selection and this kernel's abilities. Throws EnvironmentError
// when nothing is left, UsageError for a --probes/--exclude name not in the list.
TracePlan plan_trace(const std::vector<HopSpec>& list, const HopSelection& selection, const KernelFacts& facts);

}  // namespace skbtrail
