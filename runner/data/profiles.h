// Named profiles (scripts/skbtrail.profiles): a command, a probe list and
// options under one name, for `skbtrail run NAME`; and the canned bpftrace
// scripts (scripts/bpftrace/*.bt) that `skbtrail list` shows next to them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skbtrail {

struct Profile {
  std::string name;
  std::string description;
  std::string command;               // a tracing command: drop, rst, trace
  std::vector<std::string> options;  // as typed on a command line
  std::string origin;                // file:line of its [name]
};

// Throws UsageError "SOURCE:LINE: what is wrong". `commands` are the
// commands a profile may run (the tool registry's tracing commands).
std::vector<Profile> parse_profiles(std::string_view text, const std::string& source,
                                    const std::vector<std::string>& commands);

struct CannedScript {
  std::string name;     // "rst.bt"
  std::string summary;  // the first sentence of its header comment
  std::string needs;    // its "Needs:" paragraph, on one line
};
std::vector<CannedScript> bundled_bpftrace_scripts();

}  // namespace skbtrail
