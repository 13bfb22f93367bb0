#include "scenario_driver/scenario.h"

#include <cstdlib>

#include <algorithm>
#include <charconv>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "runner/kernel/kernel_info.h"

namespace skbtrail::scenarios {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

bool is_block_key(std::string_view key) {
  return key == "SETUP" || key == "RUN" || key == "TRIGGER" || key == "CLEANUP";
}

}  // namespace

std::vector<Scenario> parse_scenarios(std::string_view text, const std::string& file) {
  std::vector<Scenario> scenarios;
  std::istringstream in{std::string(text)};
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);

  auto fail = [&](size_t index, const std::string& what) -> ScenarioError {
    return ScenarioError(fmt::format("{}:{}: {}", file, index + 1, what));
  };

  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view raw = lines[i];
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    if (raw.front() == ' ' || raw.front() == '\t') throw fail(i, "indented line outside a SETUP/RUN/TRIGGER/CLEANUP block");
    const auto space = line.find_first_of(" \t");
    const std::string key(line.substr(0, space));
    const std::string value(space == std::string_view::npos ? std::string_view{} : trim(line.substr(space)));

    if (key == "NAME") {
      if (value.empty()) throw fail(i, "NAME needs a value");
      scenarios.push_back({});
      scenarios.back().file = file;
      scenarios.back().line = static_cast<int>(i + 1);
      scenarios.back().name = value;
      continue;
    }
    if (scenarios.empty()) throw fail(i, fmt::format("{} before the first NAME", key));
    Scenario& s = scenarios.back();

    std::string block = value;
    if (is_block_key(key) && value.empty()) {
      // The indented lines that follow, with their common indent removed.
      while (i + 1 < lines.size() && (lines[i + 1].empty() || lines[i + 1].front() == ' ' || lines[i + 1].front() == '\t')) {
        ++i;
        const std::string_view body = lines[i];
        const auto indent = body.find_first_not_of(" \t");
        if (indent != std::string_view::npos) block += std::string(body.substr(indent)) + "\n";
      }
      if (block.empty()) throw fail(i, key + " has no command");
    } else if (value.empty()) {
      throw fail(i, key + " needs a value");
    }

    if (key == "WHERE") {
      if (value != "host" && value != "vm" && value != "any") throw fail(i, "WHERE must be host, vm or any");
      s.where = value;
    } else if (key == "REQUIRES") {
      std::istringstream words(value);
      for (std::string w; words >> w;) s.requires_.push_back(w);
    } else if (key == "SETUP") {
      s.setup += block + (block.ends_with('\n') ? "" : "\n");
    } else if (key == "RUN") {
      if (!s.run.empty()) throw fail(i, "a scenario has one RUN");
      s.run = block;
    } else if (key == "TRIGGER") {
      s.trigger += block + (block.ends_with('\n') ? "" : "\n");
    } else if (key == "CLEANUP") {
      s.cleanup += block + (block.ends_with('\n') ? "" : "\n");
    } else if (key == "READY") {
      s.ready = value;
    } else if (key == "EXPECT") {
      s.expect.push_back(value);
    } else if (key == "EXPECT_REGEX") {
      try {
        std::regex check(value);
      } catch (const std::regex_error& e) {
        throw fail(i, fmt::format("EXPECT_REGEX does not compile: {}", e.what()));
      }
      s.expect_regex.push_back(value);
    } else if (key == "EXPECT_NOT") {
      s.expect_not.push_back(value);
    } else if (key == "TIMEOUT") {
      int seconds = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec != std::errc() || end != value.data() + value.size() || seconds <= 0)
        throw fail(i, "TIMEOUT takes whole seconds");
      s.timeout_s = seconds;
    } else if (key == "EXIT") {
      int code = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), code);
      if (ec != std::errc() || end != value.data() + value.size() || code < 0 || code > 255)
        throw fail(i, "EXIT takes an exit code, 0-255");
      s.exit_code = code;
    } else if (key == "XFAIL") {
      s.xfail = value;
    } else if (key == "TAGS") {
      std::istringstream words(value);
      for (std::string w; words >> w;) s.tags.push_back(w);
    } else {
      throw fail(i, fmt::format("unknown key '{}'", key));
    }
  }
  for (const auto& s : scenarios) {
    if (s.run.empty()) throw ScenarioError(fmt::format("{}:{}: scenario '{}' has no RUN", file, s.line, s.name));
    if (s.expect.empty() && s.expect_regex.empty() && s.expect_not.empty())
      throw ScenarioError(fmt::format("{}:{}: scenario '{}' checks nothing (add EXPECT)", file, s.line, s.name));
  }
  return scenarios;
}

std::optional<std::string> unmet_requirement(const Scenario& scenario, const Facts& facts) {
  for (const std::string& r : scenario.requires_) {
    // "!kprobes": the scenario is about a kernel that lacks the feature.
    if (r == "!kprobes" || r == "!btf" || r == "!headers" || r == "!root" || r == "!rhel7") {
      const bool present = r == "!kprobes"  ? facts.kprobes
                           : r == "!btf"     ? facts.btf
                           : r == "!headers" ? facts.headers
                           : r == "!rhel7"   ? facts.rhel7
                                             : facts.root;
      if (present) return r + " (this kernel has it)";
      continue;
    }
    if (r == "root") {
      if (!facts.root) return "root";
    } else if (r == "kprobes") {
      if (!facts.kprobes) return "kprobes (this kernel has none)";
    } else if (r == "btf") {
      if (!facts.btf) return "btf";
    } else if (r == "rhel7") {
      if (!facts.rhel7) return "rhel7 (not RHEL 7's kernel)";
    } else if (r == "headers") {
      if (!facts.headers) return "headers of the running kernel";
    } else if (r.starts_with("kernel>=") || r.starts_with("kernel<")) {
      const bool at_least = r[6] == '>';
      const auto version = parse_version_code(r.substr(at_least ? 8 : 7));
      if (!version) throw ScenarioError(fmt::format("{}:{}: bad requirement '{}'", scenario.file, scenario.line, r));
      const bool ok = at_least ? facts.version_code >= *version : facts.version_code < *version;
      if (!ok) return r;
    } else if (r.starts_with("tracepoint:")) {
      if (!facts.has_tracepoint || !facts.has_tracepoint(r.substr(11))) return r;
    } else if (r.starts_with("function:")) {
      if (!facts.has_function || !facts.has_function(r.substr(9))) return r;
    } else if (r.starts_with("command:")) {
      if (!facts.has_command || !facts.has_command(r.substr(8))) return r;
    } else if (r.starts_with("env:")) {
      const char* value = std::getenv(r.substr(4).c_str());
      if (!value || !*value) return r;
    } else {
      throw ScenarioError(fmt::format("{}:{}: unknown requirement '{}' (root, kprobes, btf, headers, rhel7, "
                                      "kernel>=X.Y, kernel<X.Y, tracepoint:C:N, function:F, command:C, env:VAR)",
                                      scenario.file, scenario.line, r));
    }
  }
  return std::nullopt;
}

bool has_any_tag(const Scenario& scenario, const std::vector<std::string>& tags) {
  if (tags.empty()) return true;
  return std::any_of(tags.begin(), tags.end(), [&](const std::string& tag) {
    return std::find(scenario.tags.begin(), scenario.tags.end(), tag) != scenario.tags.end();
  });
}

std::string check_output(const Scenario& scenario, const std::string& output) {
  for (const auto& text : scenario.expect)
    if (output.find(text) == std::string::npos) return fmt::format("EXPECT not found: {}", text);
  for (const auto& pattern : scenario.expect_regex)
    if (!std::regex_search(output, std::regex(pattern))) return fmt::format("EXPECT_REGEX did not match: {}", pattern);
  for (const auto& text : scenario.expect_not)
    if (output.find(text) != std::string::npos) return fmt::format("EXPECT_NOT found: {}", text);
  return {};
}

}  // namespace skbtrail::scenarios
