#include "runner/data/rules.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "resources/bundled.h"
#include "runner/common/errors.h"
#include "runner/data/line_reader.h"

namespace skbtrail {

namespace {

const std::set<std::string, std::less<>> kMatchKeys = {"source", "caller", "stack", "reason", "state",
                                                       "sock",   "hook",   "location", "verdict",
                                                       "conntrack", "nat"};
constexpr size_t kStackDepthForRules = 12;

}  // namespace

RuleSet RuleSet::parse(std::string_view text, const std::string& source) {
  RuleSet set;
  for (const auto& section : read_sections(text, source, "rule")) {
    Rule rule;
    rule.name = section.name;
    rule.origin = fmt::format("{}:{}", source, section.line);
    for (const auto& [key, value, line] : section.entries) {
      if (value.empty()) throw data_error(source, line, fmt::format("'{}' has no value", key));
      if (key == "level") {
        if (value != "info" && value != "warn" && value != "error")
          throw data_error(source, line, fmt::format("level '{}': use info, warn or error", value));
        rule.level = value;
      } else if (key == "cause") {
        rule.cause = value;
      } else if (key == "advice") {
        rule.advice = value;
      } else if (key == "pseudo_reason") {
        rule.pseudo_reason = value;
      } else if (kMatchKeys.contains(key)) {
        std::istringstream words(value);
        for (std::string w; words >> w;) rule.match[key].push_back(w);
      } else {
        throw data_error(source, line,
                         fmt::format("unknown key '{}' (match keys: source caller stack reason state sock hook "
                                     "location verdict conntrack nat; then level, cause, advice, pseudo_reason)",
                                     key));
      }
    }
    if (rule.cause.empty()) throw UsageError(fmt::format("{}: rule [{}] has no cause = ...", rule.origin, rule.name));
    if (!rule.pseudo_reason.empty() && !rule.match.contains("location"))
      throw UsageError(fmt::format("{}: rule [{}]: pseudo_reason names what a location means: add location = ...",
                                   rule.origin, rule.name));
    set.rules_.push_back(std::move(rule));
  }
  return set;
}

std::string RuleSet::pseudo_reason_of(std::string_view location) const {
  for (const auto& rule : rules_) {
    if (rule.pseudo_reason.empty()) continue;
    const auto& where = rule.match.at("location");
    if (std::find(where.begin(), where.end(), location) != where.end()) return rule.pseudo_reason;
  }
  return {};
}

RuleSet RuleSet::load(const std::string& bundled_name, const std::vector<std::string>& user_files) {
  RuleSet all;
  for (const auto& file : user_files) {
    std::ifstream in(file);
    if (!in) throw UsageError(fmt::format("--rules '{}': cannot read the rules file (check the path)", file));
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto user = parse(text, file);
    all.rules_.insert(all.rules_.end(), user.rules_.begin(), user.rules_.end());
  }
  auto builtin = parse(resources::bundled_text(bundled_name), bundled_name + " (built in)");
  all.rules_.insert(all.rules_.end(), builtin.rules_.begin(), builtin.rules_.end());
  return all;
}

const Rule* RuleSet::match(const RuleFacts& facts) const {
  for (const auto& rule : rules_) {
    bool ok = true;
    for (const auto& [key, values] : rule.match) {
      // A structured binding captured by a lambda needs clang 16; the fuzz
      // build uses Debian 12's clang 14.
      const std::vector<std::string>& wanted = values;
      auto any = [&](const std::string& have) {
        return !have.empty() && std::find(wanted.begin(), wanted.end(), have) != wanted.end();
      };
      if (key == "stack") {
        const size_t depth = std::min(facts.stack.size(), kStackDepthForRules);
        ok = std::any_of(facts.stack.begin(), facts.stack.begin() + depth, any);
      } else {
        const auto it = facts.values.find(key);
        ok = it != facts.values.end() && any(it->second);
      }
      if (!ok) break;
    }
    if (ok) return &rule;
  }
  return nullptr;
}

std::string expand_placeholders(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto open = text.find('{', i);
    if (open == std::string::npos) {
      out.append(text, i);
      break;
    }
    const auto close = text.find('}', open);
    out.append(text, i, open - i);
    if (close == std::string::npos) {
      out.append(text, open);
      break;
    }
    const auto it = vars.find(text.substr(open + 1, close - open - 1));
    out += it != vars.end() ? it->second : text.substr(open, close - open + 1);
    i = close + 1;
  }
  return out;
}

bool is_abnormal(const Rule& rule) { return rule.level == "warn" || rule.level == "error"; }

}  // namespace skbtrail
