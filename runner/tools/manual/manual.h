// Manual pages and shell completion, made from what --help prints: the same
// usage text, option descriptions and examples each command gives
// help_text() (runner/tools/options.h), rendered as roff. One source of
// truth: a new option is in --help, skbtrail-COMMAND(8) and the completion
// at once.
#pragma once

#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace skbtrail {

// What help_text() renders: plain text for --help, roff for the manual.
enum class HelpFormat { Text, Roff };
void set_help_format(HelpFormat format);
HelpFormat help_format();

// A command's page, skbtrail-COMMAND(8), from its parts.
std::string roff_page(const std::string& usage, const boost::program_options::options_description& options,
                      const std::string& trailer);

// skbtrail(8), or skbtrail-COMMAND(8) (from COMMAND --help). Throws
// UsageError for an unknown command.
std::string manual_page(const std::string& command);

// The words a shell completes, one per line: "commands", "options COMMAND"
// (its long and short options), "profiles", "profile-command NAME" (the
// command a profile runs), "probes" (trace's hop names), "scripts" (the
// canned bpftrace scripts).
std::string completion_words(const std::vector<std::string>& what);

}  // namespace skbtrail
