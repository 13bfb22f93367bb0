#include "runner/rules.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "programs/bundled.h"
#include "runner/errors.h"
#include "runner/text.h"

namespace skbtrail {

namespace {

const std::set<std::string, std::less<>> kMatchKeys = {"source", "caller", "stack", "reason", "state",
                                                       "sock",   "hook",   "location", "verdict",
                                                       "conntrack", "nat"};
constexpr size_t kStackDepthForRules = 12;


}  // namespace

RuleSet RuleSet::parse(std::string_view text, const std::string& source) {
  RuleSet set;
  std::istringstream in{std::string(text)};
  int number = 0;
  auto fail = [&](const std::string& what) { return UsageError(fmt::format("{}:{}: {}", source, number, what)); };
  for (std::string raw; std::getline(in, raw);) {
    ++number;
    const std::string line = std::string(trim(raw.substr(0, raw.find('#'))));
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) throw fail(fmt::format("'{}': a rule starts with [name]", line));
      set.rules_.push_back({});
      set.rules_.back().name = line.substr(1, line.size() - 2);
      set.rules_.back().origin = fmt::format("{}:{}", source, number);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw fail(fmt::format("'{}': expected key = value", line));
    if (set.rules_.empty()) throw fail("a key before the first [rule]");
    Rule& rule = set.rules_.back();
    const std::string key = std::string(trim(line.substr(0, eq)));
    const std::string value = std::string(trim(line.substr(eq + 1)));
    if (value.empty()) throw fail(fmt::format("'{}' has no value", key));
    if (key == "level") {
      if (value != "info" && value != "warn" && value != "error")
        throw fail(fmt::format("level '{}': use info, warn or error", value));
      rule.level = value;
    } else if (key == "cause") {
      rule.cause = value;
    } else if (key == "advice") {
      rule.advice = value;
    } else if (kMatchKeys.contains(key)) {
      std::istringstream words(value);
      for (std::string w; words >> w;) rule.match[key].push_back(w);
    } else {
      throw fail(fmt::format("unknown key '{}' (match keys: source caller stack reason state sock hook location "
                             "verdict conntrack nat; then level, cause, advice)",
                             key));
    }
  }
  for (const auto& rule : set.rules_)
    if (rule.cause.empty())
      throw UsageError(fmt::format("{}: rule [{}] has no cause = ...", rule.origin, rule.name));
  return set;
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
  auto builtin = parse(programs::bundled_text(bundled_name), bundled_name + " (built in)");
  all.rules_.insert(all.rules_.end(), builtin.rules_.begin(), builtin.rules_.end());
  return all;
}

const Rule* RuleSet::match(const RuleFacts& facts) const {
  for (const auto& rule : rules_) {
    bool ok = true;
    for (const auto& [key, wanted] : rule.match) {
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
