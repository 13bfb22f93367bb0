// skbtrail check: the bundled programs pass the compat lint for every kernel
// of the CI matrix, and programs that would not load are named.
#include <gtest/gtest.h>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

const std::string kPrograms = std::string(SKBTRAIL_TESTS_DIR) + "/programs/";

TEST(CheckHost, BundledProgramsPassTheMatrix) {
  if (!running_as_root()) GTEST_SKIP() << "BCC creates the programs' maps: needs root";
  const auto r = run_shell(skbtrail() + " check", 600);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* kernel : {"kernel 3.10 (rhel7 backport)", "kernel 4.4:", "kernel 4.9:", "kernel 4.14:",
                             "kernel 4.19:", "kernel 5.4:"})
    EXPECT_NE(r.out.find(kernel), std::string::npos) << kernel << "\n" << r.out;
  // Every configuration of every bundled program (drop: 3, rst: 2, trace: 3)
  // was compiled and read back for every kernel, and the --pcap one of each
  // where helpers take map values (4.11+: 4.14, 4.19, 5.4).
  size_t programs = 0;
  for (const auto& line : r.out_lines())
    if (line.rfind("  ok   ", 0) == 0 && line.find(" functions, largest ") != std::string::npos) ++programs;
  EXPECT_EQ(programs, 6u * 8u + 3u * 3u) << r.out;
  EXPECT_NE(r.out.find("drop.bpf.c --diag --stack --pcap"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rst.bpf.c --pcap"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" --keep --callstack --pcap"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
  // 4.4 has no BPF on tracepoints: drop runs on the kfree_skb kprobe there.
  const auto v44 = run_shell(skbtrail() + " check --kernel 4.4 -v", 300);
  EXPECT_NE(v44.out.find("drop.bpf.c skbtrail_kprobe_kfree_skb [kprobe]"), std::string::npos) << v44.out;
  EXPECT_EQ(v44.out.find("tracepoint__skb__kfree_skb"), std::string::npos) << v44.out;
}

TEST(CheckHost, NewHelperIsRejectedWithItsName) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  const auto r = run_shell(skbtrail() + " check --kernel 4.9 --program " + kPrograms + "compat_new_helper.bpf.c");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL " + kPrograms + "compat_new_helper.bpf.c kprobe__tcp_v4_send_reset [kprobe]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("helper bpf_ktime_get_boot_ns (125) needs 5.8, not on 4.9"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("would not load"), std::string::npos) << r.err;
  // The same program is fine where the helper exists.
  EXPECT_EQ(run_shell(skbtrail() + " check --kernel 5.10 --program " + kPrograms + "compat_new_helper.bpf.c").exit_code,
            0);
}

TEST(CheckHost, TooManyInstructionsForAnOldVerifier) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  const std::string program = kPrograms + "compat_too_big.bpf.c";
  const auto r = run_shell(skbtrail() + " check --kernel 4.19 --program " + program);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("kprobe__tcp_v4_send_reset"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("instructions, over the 4096 limit of 4.19"), std::string::npos) << r.out;
  // 5.2 raised the limit to a million: the same bytecode passes on 5.4.
  const auto v54 = run_shell(skbtrail() + " check --kernel 5.4 --program " + program);
  EXPECT_EQ(v54.exit_code, 0) << v54.out << v54.err;
}

TEST(CheckHost, BadKernelVersionIsAUsageError) {
  const auto r = run_shell(skbtrail() + " check --kernel four");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--kernel 'four': give a kernel version as X.Y"), std::string::npos) << r.err;
  const auto old = run_shell(skbtrail() + " check --kernel 3.18");
  EXPECT_EQ(old.exit_code, 2);
  EXPECT_NE(old.err.find("RHEL 7's 3.10"), std::string::npos) << old.err;
}

}  // namespace
}  // namespace skbtrail::test
