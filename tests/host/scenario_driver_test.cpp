// The scenario driver must report a failing scenario as failed, exit
// non-zero and still print its closing line.
#include <gtest/gtest.h>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

TEST(ScenarioDriver, FailingScenarioFailsTheRun) {
  const auto r = run_shell(std::string("'") + SKBTRAIL_SCENARIOS_BINARY + "' --where host '" + SKBTRAIL_TESTS_DIR +
                           "/scenarios/selftest'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL  driver self-test: a failing scenario makes the driver fail [host]"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("EXPECT not found: this text never appears"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n0 passed, 1 failed, 0 skipped\n"), std::string::npos) << r.out;
}

TEST(ScenarioDriver, BadScenarioFileIsNamedWithItsLine) {
  const auto r = run_shell("f=$(mktemp --suffix=.scn); printf 'NAME x\\nRUN true\\nEXPECT y\\nBOGUS z\\n' > $f; '" +
                           std::string(SKBTRAIL_SCENARIOS_BINARY) + "' $f; rc=$?; rm -f $f; exit $rc");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(".scn:4: unknown key 'BOGUS'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace skbtrail::test
