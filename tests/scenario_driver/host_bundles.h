// The VM suite's programs, compiled on the host: before the VM boots, every
// skbtrail command line a VM scenario runs is bundled for the VM's kernel
// (skbtrail bundle ... --kernel-headers), and inside the VM skbtrail takes
// a fitting bundle from $SKBTRAIL_BUNDLES instead of compiling under
// emulation (~100 s a program there, ~2 s here).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "scenario_driver/scenario.h"

namespace skbtrail::scenarios {

// The arguments of each `$SKBTRAIL ...` command in a shell snippet, up to
// the first pipe, redirection or separator. Values only known at run time
// are replaced where they do not change the program (--netns and --pid are
// bound at load time, --rules is read by user space); a command with any
// other such value is left out.
std::vector<std::vector<std::string>> skbtrail_command_lines(const std::string& shell);

// Bundles every distinct tracing command line of `scenarios` into `dir` for
// `release` (headers in `headers`). Returns how many bundles were made;
// prints one line per command that could not be bundled.
int prebuild_bundles(const std::vector<Scenario>& scenarios, const std::filesystem::path& skbtrail,
                     const std::string& release, const std::filesystem::path& headers,
                     const std::filesystem::path& dir);

}  // namespace skbtrail::scenarios
