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
  std::string command;               // drop, rst or trace
  std::vector<std::string> options;  // as typed on a command line
  std::string origin;                // file:line of its [name]
};

// Throws UsageError "SOURCE:LINE: what is wrong".
std::vector<Profile> parse_profiles(std::string_view text, const std::string& source);
const std::vector<Profile>& bundled_profiles();

// The command line a profile stands for, with the user's extra options last.
// Throws UsageError for an unknown name (listing the known ones).
std::vector<std::string> expand_profile(std::string_view name, const std::vector<std::string>& extra);

struct CannedScript {
  std::string name;     // "rst.bt"
  std::string summary;  // the first line of its header comment
  std::string needs;    // its "Needs:" paragraph, on one line
};
std::vector<CannedScript> bundled_bpftrace_scripts();

// `skbtrail list`: profiles, then the bpftrace scripts with what they need.
std::string list_text();

}  // namespace skbtrail
