// The hops `skbtrail trace` follows, as data (scripts/trace.probes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>


namespace skbtrail {

struct HopSpec {
  std::string name;  // function, or "tp:CATEGORY:EVENT"
  bool tracepoint = false;
  int skb_arg = 1;                // functions: which argument is the skb
  std::string skb_field = "skbaddr";  // tracepoints: the field holding it
  std::string layer = "custom";
  uint32_t since = 0;  // version codes; 0 = always / still present
  uint32_t until = 0;
  bool any_version = true;  // KERNELS has a version range (or is "-")
  bool rhel7 = false;       // KERNELS names rhel7: this line is RHEL 7's
  // Functions: other names (tried in order when the first is absent or will
  // not attach), and tracepoints (tp:...) this kprobe stands in for on
  // kernels without BPF on tracepoints. Tracepoints: the function hops they
  // stand in for on kernels without kprobes.
  std::vector<std::string> also;
  std::string description;
  std::string origin;  // "file:line" for messages

  // Whether the line is for this kernel (version code, RHEL major): RHEL 7
  // kernels take a line that names rhel7, the others the version range.
  bool matches_version(uint32_t version) const;
  bool stands_in_for(const std::string& tracepoint) const;

  std::string category() const;  // tracepoints: "skb"
  std::string event() const;     // tracepoints: "kfree_skb"
};

// Throws UsageError "SOURCE:LINE: what is wrong (the fix)".
std::vector<HopSpec> parse_probe_list(std::string_view text, const std::string& source);

// The default list shipped inside the binary.
std::vector<HopSpec> default_probe_list();

// `--add-probe func[:argN]` -> a custom hop. Throws UsageError.
HopSpec parse_added_probe(std::string_view text);

}  // namespace skbtrail
