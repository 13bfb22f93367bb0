// Command-line parsing: argv -> one registered command's Command (text to
// show, or options to run), or UsageError naming the input and its fix.
#pragma once

#include <string>
#include <vector>

#include "runner/tools/options.h"
#include "runner/tools/tool.h"

namespace skbtrail {

Command parse_command_line(const std::vector<std::string>& args);  // args exclude argv[0]

// skbtrail --help: every registered command with its summary.
std::string top_usage();

}  // namespace skbtrail
