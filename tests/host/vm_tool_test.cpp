// tools/vm's failure paths: exit 125 when there is nothing to boot, 124 when
// the command outlives --timeout (the VM is killed, nothing is left running).
#include <gtest/gtest.h>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

const std::string kVm = std::string(SKBTRAIL_TESTS_DIR) + "/../tools/vm";

TEST(VmTool, NoKernelToBootIs125) {
  const auto r = run_shell(kVm + " --kernel 0.0.0-none -- true", 60);
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("no bootable generic kernel"), std::string::npos) << r.err;
}

TEST(VmTool, TimeoutKillsTheVmAndIs124) {
  if (run_shell("command -v qemu-system-x86_64").exit_code != 0) GTEST_SKIP() << "qemu missing (tools/setup.sh --vm)";
  const auto before = run_shell("pgrep -c -f 'qemu-system-x86_64.*skbtrail-vm' || true").out;
  const auto r = run_shell(kVm + " --timeout 3 -- sleep 300", 60);
  EXPECT_EQ(r.exit_code, 124) << r.out << r.err;
  EXPECT_NE(r.err.find("timed out after 3s"), std::string::npos) << r.err;
  EXPECT_EQ(run_shell("pgrep -c -f 'qemu-system-x86_64.*skbtrail-vm' || true").out, before);
}

TEST(VmTool, UnknownOptionIsUsage) {
  const auto r = run_shell(kVm + " --frobnicate -- true");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option '--frobnicate'"), std::string::npos);
}

}  // namespace
}  // namespace skbtrail::test
