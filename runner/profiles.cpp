#include "runner/profiles.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "programs/bundled.h"
#include "runner/errors.h"
#include "runner/text.h"

namespace skbtrail {

namespace {


constexpr const char* kCommands[] = {"drop", "rst", "trace"};

}  // namespace

std::vector<Profile> parse_profiles(std::string_view text, const std::string& source) {
  std::vector<Profile> profiles;
  std::istringstream in{std::string(text)};
  int line_no = 0;
  auto fail = [&](const std::string& what) { return UsageError(fmt::format("{}:{}: {}", source, line_no, what)); };
  auto finish = [&] {
    if (profiles.empty()) return;
    const Profile& p = profiles.back();
    if (p.command.empty()) throw UsageError(fmt::format("{}: profile [{}] has no command", p.origin, p.name));
  };
  for (std::string raw; std::getline(in, raw);) {
    ++line_no;
    const std::string line = std::string(trim(raw));
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) throw fail("a profile starts with [name]");
      finish();
      Profile p;
      p.name = line.substr(1, line.size() - 2);
      if (std::any_of(profiles.begin(), profiles.end(), [&](const Profile& q) { return q.name == p.name; }))
        throw fail(fmt::format("profile [{}] is defined twice", p.name));
      p.origin = fmt::format("{}:{}", source, line_no);
      profiles.push_back(std::move(p));
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw fail("expected key = value");
    if (profiles.empty()) throw fail("a key before the first [profile]");
    const std::string key = std::string(trim(line.substr(0, eq)));
    const std::string value = std::string(trim(line.substr(eq + 1)));
    Profile& p = profiles.back();
    if (key == "description") {
      p.description = value;
    } else if (key == "command") {
      if (std::find(std::begin(kCommands), std::end(kCommands), value) == std::end(kCommands))
        throw fail(fmt::format("command '{}': a profile runs drop, rst or trace", value));
      p.command = value;
    } else if (key == "options") {
      std::istringstream words(value);
      for (std::string w; words >> w;) p.options.push_back(w);
    } else {
      throw fail(fmt::format("unknown key '{}' (description, command, options)", key));
    }
  }
  finish();
  return profiles;
}

const std::vector<Profile>& bundled_profiles() {
  static const std::vector<Profile> profiles =
      parse_profiles(programs::bundled_text("skbtrail.profiles"), "scripts/skbtrail.profiles");
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

std::vector<CannedScript> bundled_bpftrace_scripts() {
  std::vector<CannedScript> scripts;
  for (const auto& file : programs::bundled_files()) {
    if (!file.name.ends_with(".bt")) continue;
    CannedScript s;
    s.name = std::string(file.name);
    std::istringstream in{std::string(file.text)};
    bool in_needs = false;
    bool in_summary = false;
    for (std::string raw; std::getline(in, raw);) {
      std::string line = std::string(trim(raw));
      if (line == "*/") break;
      if (line.starts_with("* ")) line = line.substr(2);
      else if (line == "*") line.clear();
      else continue;
      // The summary: "NAME: ..." and the lines after it, up to a blank or an indented line.
      if (s.summary.empty() && line.starts_with(s.name + ":")) {
        s.summary = std::string(trim(line.substr(s.name.size() + 1)));
        in_summary = true;
        continue;
      }
      if (in_summary && !line.empty() && line[0] != ' ') {
        s.summary += " " + line;
        continue;
      }
      in_summary = false;
      if (line.starts_with("Needs:")) {
        in_needs = true;
        s.needs = std::string(trim(line.substr(6)));
        continue;
      }
      // The Needs paragraph continues on indented lines.
      if (in_needs && raw.find("*        ") != std::string::npos) s.needs += " " + std::string(trim(line));
      else in_needs = false;
    }
    if (const auto end = s.summary.find(". "); end != std::string::npos) s.summary.resize(end + 1);  // first sentence
    scripts.push_back(std::move(s));
  }
  std::sort(scripts.begin(), scripts.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return scripts;
}

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

}  // namespace skbtrail
