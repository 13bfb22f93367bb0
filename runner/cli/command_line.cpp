#include "runner/cli/command_line.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/common/errors.h"
#include "runner/tools/manual/manual.h"

namespace skbtrail {

std::string top_usage() {
  std::string out =
      "skbtrail: where a packet went inside the Linux kernel, and why it died\n\n"
      "usage: skbtrail COMMAND [OPTIONS]\n\ncommands:\n";
  for (const Tool* tool : tools()) out += fmt::format("  {:<9} {}\n", tool->synopsis(), tool->summary());
  out += "\nRun 'skbtrail COMMAND --help' for a command's options and examples.\n";
  return out;
}

Command parse_command_line(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("no command given (try skbtrail drop, or skbtrail --help)");
  const std::string& command = args.front();
  if (command == "--help" || command == "-h" || command == "help") return Command::show(top_usage());
  if (command == "--version" || command == "version") return Command::show("skbtrail " SKBTRAIL_VERSION "\n");
  // For the build and the shell: manual pages (roff) and completion words,
  // from the commands' own --help (runner/tools/manual/manual.h).
  if (command == "__man") return Command::show(manual_page(args.size() > 1 ? args[1] : ""));
  if (command == "__complete") return Command::show(completion_words({args.begin() + 1, args.end()}));
  if (const Tool* tool = find_tool(command)) return tool->parse({args.begin() + 1, args.end()});
  std::vector<std::string> names;
  for (const Tool* tool : tools()) names.emplace_back(tool->name());
  throw UsageError(fmt::format("unknown command '{}' (commands: {}; see skbtrail --help)", command,
                               fmt::join(names, ", ")));
}

}  // namespace skbtrail
