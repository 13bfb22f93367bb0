#include "runner/data/profiles.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "resources/bundled.h"
#include "runner/common/errors.h"
#include "runner/common/text.h"
#include "runner/data/line_reader.h"

namespace skbtrail {

namespace {

// "drop, rst or trace"
std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

}  // namespace

std::vector<Profile> parse_profiles(std::string_view text, const std::string& source,
                                    const std::vector<std::string>& commands) {
  std::vector<Profile> profiles;
  for (const auto& section : read_sections(text, source, "profile")) {
    Profile p;
    p.name = section.name;
    p.origin = fmt::format("{}:{}", source, section.line);
    if (std::any_of(profiles.begin(), profiles.end(), [&](const Profile& q) { return q.name == p.name; }))
      throw data_error(source, section.line, fmt::format("profile [{}] is defined twice", p.name));
    for (const auto& [key, value, line] : section.entries) {
      if (key == "description") {
        p.description = value;
      } else if (key == "command") {
        if (std::find(commands.begin(), commands.end(), value) == commands.end())
          throw data_error(source, line, fmt::format("command '{}': a profile runs {}", value, one_of(commands)));
        p.command = value;
      } else if (key == "options") {
        std::istringstream words(value);
        for (std::string w; words >> w;) p.options.push_back(w);
      } else {
        throw data_error(source, line, fmt::format("unknown key '{}' (description, command, options)", key));
      }
    }
    if (p.command.empty()) throw UsageError(fmt::format("{}: profile [{}] has no command", p.origin, p.name));
    profiles.push_back(std::move(p));
  }
  return profiles;
}

std::vector<CannedScript> bundled_bpftrace_scripts() {
  std::vector<CannedScript> scripts;
  for (const auto& file : resources::bundled_files()) {
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

}  // namespace skbtrail
