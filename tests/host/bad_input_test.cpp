// Bad input: one line naming the input and the fix, exit code 2, and no
// probe attached (the "attached" banner never appears).
#include <gtest/gtest.h>

#include <filesystem>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

void expect_refused(const CommandResult& r, const std::string& must_mention) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("skbtrail: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(must_mention), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("attached"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(BadInput, ShortAddress) { expect_refused(run_shell(skbtrail() + " drop --addr 1.2.3"), "--addr '1.2.3'"); }

TEST(BadInput, PortOutOfRange) { expect_refused(run_shell(skbtrail() + " drop --port 70000"), "--port '70000'"); }

TEST(BadInput, UnknownOption) {
  expect_refused(run_shell(skbtrail() + " drop --no-such-option"), "unknown option '--no-such-option'");
}

TEST(BadInput, UnknownCommand) { expect_refused(run_shell(skbtrail() + " dorp"), "unknown command 'dorp'"); }

TEST(BadInput, UnreadableKernelHeadersDirectory) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to get past the permission check";
  expect_refused(run_shell(skbtrail() + " drop --kernel-headers /nonexistent/kernel-devel"),
                 "--kernel-headers '/nonexistent/kernel-devel'");
}

TEST(BadInput, ForeignHeadersOfAnotherReleaseAreRefused) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to get past the permission check";
  const std::string dir = "/tmp/skbtrail-fake-headers";
  std::filesystem::create_directories(dir + "/include/linux");
  std::filesystem::create_directories(dir + "/include/config");
  std::filesystem::create_directories(dir + "/include/generated");
  run_shell("echo 2.6.32-fake > " + dir + "/include/config/kernel.release");
  run_shell("echo '#define CONFIG_X86_64 1' > " + dir + "/include/generated/autoconf.h");
  expect_refused(run_shell(skbtrail() + " drop --kernel-headers " + dir), "--force-headers");
  std::filesystem::remove_all(dir);
}

// A real header tree of another release (Debian's 6.1, which tools/setup.sh
// --vm installs for the test VM): refused without --force-headers, compiled
// and attached with it.
TEST(BadInput, ForeignHeadersOfARealTreeNeedTheForceFlag) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to get past the permission check";
  const auto found = run_shell(
      "for d in /lib/modules/*/build; do r=${d#/lib/modules/}; r=${r%/build}; "
      "[ \"$r\" != \"$(uname -r)\" ] && [ -d \"$d/include\" ] && { echo ${d%/build}; break; }; done");
  const std::string tree = found.out_lines().empty() ? "" : found.out_lines().front();
  if (tree.empty()) GTEST_SKIP() << "no header tree of another release (tools/setup.sh --vm installs Debian's)";
  expect_refused(run_shell(skbtrail() + " drop --kernel-headers " + tree + " --duration 1s"), "--force-headers");
  const auto forced = run_shell(skbtrail() + " drop --kernel-headers " + tree + " --force-headers --duration 2s", 300);
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(forced.err.find("header mode foreign"), std::string::npos) << forced.err;
  EXPECT_NE(forced.err.find("attached"), std::string::npos) << forced.err;
}

TEST(BadInput, TraceProbeListErrors) {
  expect_refused(run_shell(skbtrail() + " trace --add-probe ip_rcv:arg9"), "--add-probe 'ip_rcv:arg9'");
  expect_refused(run_shell(skbtrail() + " trace --probes @/nonexistent.probes"), "--probes @/nonexistent.probes");
  expect_refused(run_shell(skbtrail() + " trace --tcp-flags SX"), "--tcp-flags 'SX'");
  expect_refused(run_shell(skbtrail() + " trace --ifname averyveryverylongname0"), "--ifname");
  if (!running_as_root()) return;  // the remaining checks need the kernel to be probed
  expect_refused(run_shell(skbtrail() + " trace --probes ip_rcv,no_such_function"), "'no_such_function'");
  expect_refused(run_shell("f=$(mktemp); echo 'ip_rcv 7 ip' > $f; " + skbtrail() + " trace --probes @$f; rc=$?; rm -f $f; exit $rc"),
                 ":1: SKB '7'");
}

TEST(BadInput, TraceListsItsProbes) {
  const auto r = run_shell(skbtrail() + " trace --list-probes");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ip_rcv "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tp:skb:kfree_skb"), std::string::npos) << r.out;
}

TEST(BadInput, NonRootIsToldToUseRoot) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to become another user";
  if (run_shell("command -v setpriv").exit_code != 0) GTEST_SKIP() << "setpriv (util-linux) missing";
  const auto r = run_shell("setpriv --reuid=65534 --regid=65534 --clear-groups " + skbtrail() + " drop --dport 9");
  expect_refused(r, "run as root");
}

}  // namespace
}  // namespace skbtrail::test
