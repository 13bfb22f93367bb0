// Command-line parsing: argv -> one command's options, or UsageError with
// the offending input and its fix.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "runner/compat_check.h"
#include "runner/doctor.h"
#include "runner/drop.h"
#include "runner/exec.h"
#include "runner/rst.h"
#include "runner/symbolize_command.h"
#include "runner/trace.h"

namespace skbtrail {

struct ShowText {  // --help, --version: print and exit 0
  std::string text;
};

using Command = std::variant<ShowText, DoctorOptions, DropOptions, ExecOptions, TraceOptions, SymbolizeOptions, RstOptions,
                             CheckOptions>;

Command parse_command_line(const std::vector<std::string>& args);  // args exclude argv[0]

// "10", "10s", "500ms", "2m", "1h" -> milliseconds; throws UsageError.
std::chrono::milliseconds parse_duration_option(const std::string& text);

}  // namespace skbtrail
