// skbtrail run NAME and skbtrail list: the named profiles
// (scripts/skbtrail.profiles) and the canned bpftrace scripts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runner/data/profiles.h"
#include "runner/tools/tool.h"

namespace skbtrail {

const std::vector<Profile>& bundled_profiles();

// The command line a profile stands for, with the user's extra options last.
// Throws UsageError for an unknown name (listing the known ones).
std::vector<std::string> expand_profile(std::string_view name, const std::vector<std::string>& extra);

// `skbtrail list`: profiles, then the bpftrace scripts with what they need.
std::string list_text();

const Tool& run_tool();
const Tool& list_tool();

}  // namespace skbtrail
