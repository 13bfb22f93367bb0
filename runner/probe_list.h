// The hops `skbtrail trace` follows, as data (scripts/trace.probes), and the
// choice of which of them this kernel can attach.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runner/kernel_info.h"
#include "runner/probes.h"

namespace skbtrail {

class Kallsyms;

struct HopSpec {
  std::string name;  // function, or "tp:CATEGORY:EVENT"
  bool tracepoint = false;
  int skb_arg = 1;                // functions: which argument is the skb
  std::string skb_field = "skbaddr";  // tracepoints: the field holding it
  std::string layer = "custom";
  uint32_t since = 0;  // version codes; 0 = always / still present
  uint32_t until = 0;
  std::vector<std::string> also;  // functions: other names; tracepoints: hops stood in for
  std::string description;
  std::string origin;  // "file:line" for messages

  std::string category() const;  // tracepoints: "skb"
  std::string event() const;     // tracepoints: "kfree_skb"
};

// Throws UsageError "SOURCE:LINE: what is wrong (the fix)".
std::vector<HopSpec> parse_probe_list(std::string_view text, const std::string& source);

// The default list shipped inside the binary.
std::vector<HopSpec> default_probe_list();

// `--add-probe func[:argN]` -> a custom hop. Throws UsageError.
HopSpec parse_added_probe(std::string_view text);

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
};

struct TracePlan {
  std::vector<PlannedHop> hops;
  // Hops left out, with why ("this kernel has no kprobes"); reported once.
  std::vector<std::pair<std::string, std::string>> missing;
};

// "a, b (this kernel has no kprobes); c (no such tracepoint on X)"
std::string describe_missing(const std::vector<std::pair<std::string, std::string>>& missing);

// Applies the selection and this kernel's abilities. Throws EnvironmentError
// when nothing is left, UsageError for a --probes/--exclude name not in the list.
TracePlan plan_trace(const std::vector<HopSpec>& list, const HopSelection& selection, const KernelInfo& kernel,
                     const Kallsyms& kallsyms);

}  // namespace skbtrail
