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

}  // namespace skbtrail
