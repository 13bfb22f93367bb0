#include "runner/tools/profiles/profiles_tool.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "resources/bundled.h"
#include "runner/common/errors.h"
#include "runner/tools/options.h"

namespace skbtrail {

const std::vector<Profile>& bundled_profiles() {
  static const std::vector<Profile> profiles =
      parse_profiles(resources::bundled_text("skbtrail.profiles"), "scripts/skbtrail.profiles", tracing_tool_names());
  return profiles;
}

std::vector<std::string> expand_profile(std::string_view name, const std::vector<std::string>& extra) {
  const auto& profiles = bundled_profiles();
  const auto it = std::find_if(profiles.begin(), profiles.end(), [&](const Profile& p) { return p.name == name; });
  if (it == profiles.end()) {
    std::vector<std::string> names;
    for (const auto& p : profiles) names.push_back(p.name);
    throw UsageError(fmt::format("run: no profile '{}' (profiles: {}; see skbtrail list)", name, fmt::join(names, ", ")));
  }
  std::vector<std::string> args{it->command};
  args.insert(args.end(), it->options.begin(), it->options.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

namespace {
std::string profile_lines() {
  std::string out;
  for (const auto& p : bundled_profiles())
    out += fmt::format("  {:<10} = skbtrail {} {}\n", p.name, p.command, fmt::join(p.options, " "));
  return out;
}
}  // namespace

std::string list_text() {
  std::string out = "profiles (skbtrail run NAME [more options]):\n";
  for (const auto& p : bundled_profiles())
    out += fmt::format("  {:<10} {}\n  {:<10}   = skbtrail {} {}\n", p.name, p.description, "", p.command,
                       fmt::join(p.options, " "));
  out += "\nbpftrace scripts (skbtrail list --print NAME | bpftrace -):\n";
  for (const auto& s : bundled_bpftrace_scripts())
    out += fmt::format("  {:<22} {}\n  {:<22}   needs: {}\n", s.name, s.summary, "", s.needs);
  return out;
}

namespace {

class RunTool : public Tool {
 public:
  std::string_view name() const override { return "run"; }
  std::string_view synopsis() const override { return "run NAME"; }
  std::string_view summary() const override {
    return "a named profile: command + probe list + options (skbtrail run rst, run iptables, ...)";
  }
  Command parse(const std::vector<std::string>& args) const override {
    if (!args.empty() && (args.front() == "--help" || args.front() == "-h"))
      return Command::show(help_text("usage: skbtrail run NAME [MORE OPTIONS]\n\nRuns a named profile from "
                                     "scripts/skbtrail.profiles: a command with its probe list and options; options "
                                     "given after the name are appended, so they can narrow it.",
                                     po::options_description(),
                                     "\nprofiles:\n" + profile_lines() +
                                         "\nexamples:\n  skbtrail run rst -P 8080      every RST on port 8080, "
                                         "with stacks\n  skbtrail run iptables -H 10.0.0.2   which table and chain "
                                         "decided\n"));
    if (args.empty() || args.front().starts_with("-"))
      throw UsageError("run: give a profile name (skbtrail run rst; skbtrail list shows them)");
    const auto expanded = expand_profile(args.front(), {args.begin() + 1, args.end()});
    return find_tool(expanded.front())->parse({expanded.begin() + 1, expanded.end()});
  }
};

class ListTool : public Tool {
 public:
  std::string_view name() const override { return "list"; }
  std::string_view summary() const override {
    return "the profiles and the canned bpftrace scripts, with what each needs";
  }
  Command parse(const std::vector<std::string>& args) const override {
    if (!args.empty() && (args.front() == "--help" || args.front() == "-h"))
      return Command::show(help_text("usage: skbtrail list [--print NAME.bt]\n\nLists the profiles (skbtrail run "
                                     "NAME) and the canned bpftrace scripts with what each needs; --print NAME.bt "
                                     "prints a script (skbtrail list --print rst.bt | bpftrace -).",
                                     po::options_description(), ""));
    if (args.empty()) return Command::show(list_text());
    if (args.size() == 2 && args[0] == "--print") {
      for (const auto& s : bundled_bpftrace_scripts())
        if (s.name == args[1]) return Command::show(std::string(resources::bundled_text(s.name)));
      throw UsageError(fmt::format("list --print '{}': no such bpftrace script (skbtrail list names them)", args[1]));
    }
    throw UsageError("list: takes nothing, or --print NAME.bt");
  }
};

}  // namespace

const Tool& run_tool() {
  static const RunTool tool;
  return tool;
}

const Tool& list_tool() {
  static const ListTool tool;
  return tool;
}

}  // namespace skbtrail
