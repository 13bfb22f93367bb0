// Declarative end-to-end scenarios (tests/scenarios/*.scn): parse, check
// requirements, run against a real kernel.
//
// A file holds one or more scenarios; each starts with NAME. Keys take a
// value on their line; SETUP, RUN, TRIGGER and CLEANUP may instead take an
// indented block on the following lines. '#' starts a comment line.
//
//   NAME         closed-port drop seen by skbtrail drop
//   WHERE        host | vm | any        (default any)
//   REQUIRES     root kprobes btf headers kernel>=5.17 tracepoint:skb:kfree_skb
//                function:tcp_v4_send_reset command:iptables env:SKBTRAIL_BUNDLES
//                rhel7 (RHEL/CentOS 7's kernel)
//                !kprobes !btf !headers !rhel7 (the kernel must lack it)
//   SETUP        shell run first (netns, veth, rules); must succeed
//   RUN          the skbtrail command, started in the background
//   READY        text RUN prints once attached (default "attached")
//   TRIGGER      shell run once READY is seen (traffic)
//   EXPECT       text RUN's output must contain (repeatable)
//   EXPECT_REGEX ECMAScript regex RUN's output must match (repeatable)
//   EXPECT_NOT   text RUN's output must not contain (repeatable)
//   EXIT         RUN's expected exit code (default: not checked)
//   TIMEOUT      seconds for the whole scenario (default 60)
//   CLEANUP      shell run last, always
//   XFAIL        reason: the scenario must fail (a self-test of the driver)
//   TAGS         words naming suites the scenario belongs to (legacy: the
//                subset each legacy kernel's boot runs; --tags picks them)
//
// Shell snippets see $SKBTRAIL (the binary), $NS (a unique name prefix for
// namespaces), $WORK (a scratch directory), $SCENARIO_DIR and $TESTBIN (the
// directory of the test helpers, e.g. $TESTBIN/tcp_reset_helper).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace skbtrail::scenarios {

struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Scenario {
  std::string file;
  int line = 0;
  std::string name;
  std::string where = "any";
  std::vector<std::string> requires_;
  std::string setup, run, trigger, cleanup;
  std::string ready = "attached";
  std::vector<std::string> expect, expect_regex, expect_not;
  int timeout_s = 60;
  std::optional<int> exit_code;
  std::string xfail;
  std::vector<std::string> tags;
};

// Throws ScenarioError "file:line: what is wrong".
std::vector<Scenario> parse_scenarios(std::string_view text, const std::string& file);

// What the machine running the scenarios offers.
struct Facts {
  bool root = false;
  bool kprobes = false;
  bool btf = false;
  bool headers = false;
  bool rhel7 = false;
  unsigned version_code = 0;
  // Lookups that need the system; injectable for tests.
  bool (*has_tracepoint)(const std::string& category_and_name) = nullptr;
  bool (*has_function)(const std::string& name) = nullptr;
  bool (*has_command)(const std::string& name) = nullptr;
};

// The first requirement the facts do not meet, with why; nullopt when all are.
// Throws ScenarioError for a requirement the driver does not know.
std::optional<std::string> unmet_requirement(const Scenario& scenario, const Facts& facts);

struct Outcome {
  enum Kind { Pass, Fail, Skip } kind = Pass;
  std::string detail;  // reason for FAIL/SKIP, "expected failure: ..." for XFAIL passes
  std::string output;  // RUN's output, for failure reports
};

// Whether `scenario` is in one of `tags` (all scenarios when tags is empty).
bool has_any_tag(const Scenario& scenario, const std::vector<std::string>& tags);

// Judges RUN's output against EXPECT*; empty string when it passes.
std::string check_output(const Scenario& scenario, const std::string& output);

}  // namespace skbtrail::scenarios
