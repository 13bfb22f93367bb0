// skbtrail check against real kernel header trees: every bundled program,
// in every configuration its command can produce, compiles against the
// tree (its version, config, RHEL backport and struct layouts) and passes
// the lint for that kernel. The trees: the legacy kernels built for this
// project (../shared/kernels: RHEL 7's 3.10.0-1160.el7 as the distribution
// ships it and as the bootable image has it, 4.9, 4.19), Debian's 5.10 and
// 6.12 (tools/fetch-debian-kernel.sh) and the VM's Debian 6.1. A test
// whose tree is absent is skipped with where it looked.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

namespace fs = std::filesystem;

// Where the legacy kernels are: $SKBTRAIL_KERNEL_DIRS (colon-separated),
// else beside the checkout and in /work/shared.
std::vector<fs::path> kernel_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("SKBTRAIL_KERNEL_DIRS"); env && *env) {
    std::string all = env;
    for (size_t at = 0; at <= all.size();) {
      const size_t colon = all.find(':', at);
      dirs.emplace_back(all.substr(at, colon == std::string::npos ? std::string::npos : colon - at));
      if (colon == std::string::npos) break;
      at = colon + 1;
    }
  }
  dirs.emplace_back(fs::path(SKBTRAIL_TESTS_DIR) / "../../shared/kernels");
  dirs.emplace_back("/work/shared/kernels");
  const char* cache = std::getenv("SKBTRAIL_KERNEL_CACHE");
  dirs.emplace_back(cache && *cache ? cache : "/var/cache/skbtrail-kernels");
  return dirs;
}

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// A tree under one of the kernel dirs: DIR/NAME/SUBDIR, or the kernel dir
// whose release file starts with `release_prefix`.
fs::path find_tree(const std::string& name, const std::string& subdir, const std::string& release_prefix = "") {
  std::error_code ec;
  for (const auto& dir : kernel_dirs()) {
    if (!name.empty() && fs::is_directory(dir / name / subdir / "include", ec)) return dir / name / subdir;
    if (release_prefix.empty() || !fs::is_directory(dir, ec)) continue;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (first_line(entry.path() / "release").starts_with(release_prefix) &&
          fs::exists(entry.path() / ".complete", ec) && fs::is_directory(entry.path() / subdir / "include", ec))
        return entry.path() / subdir;
  }
  return {};
}

// The installed Debian 6.1 headers (the VM's kernel).
fs::path debian_61_tree() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/lib/modules", ec))
    if (entry.path().filename().string().starts_with("6.1.") && fs::is_directory(entry.path() / "build/include", ec))
      return entry.path() / "build";
  return {};
}

// Kernels from 4.11 on (bpf_perf_event_output taking map values) also get
// drop --pcap checked; 4.9 and RHEL 7 refuse it, so it is not a plan there.
enum class PcapPlan { absent, present };

void check_tree(const fs::path& tree, const std::string& what, PcapPlan pcap) {
  if (!running_as_root()) GTEST_SKIP() << "BCC creates the programs' maps: needs root";
  if (tree.empty()) GTEST_SKIP() << what << ": no such header tree here (looked in $SKBTRAIL_KERNEL_DIRS, "
                                 << "../shared/kernels, /var/cache/skbtrail-kernels, /lib/modules)";
  const auto r = run_shell(skbtrail() + " check --kernel-headers " + tree.string(), 600);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("tree " + tree.string() + ": "), std::string::npos) << r.out;
  // drop: default, --diag --stack, every filter; rst: default, every
  // filter; trace: default, everything with --keep --callstack, every
  // filter; and from 4.11 each command's --pcap.
  size_t plans = 0, pcap_plans = 0;
  for (const auto& line : r.out_lines())
    if (line.rfind("  ok   ", 0) == 0 && line.find(" functions, largest ") != std::string::npos) {
      ++plans;
      if (line.find(" --pcap:") != std::string::npos) ++pcap_plans;
    }
  EXPECT_EQ(plans, pcap == PcapPlan::present ? 11u : 8u) << r.out;
  EXPECT_EQ(pcap_plans, pcap == PcapPlan::present ? 3u : 0u) << r.out;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
}

TEST(RealTrees, Rhel7KernelDevel) {
  check_tree(find_tree("3.10.0-1160.el7.x86_64", "build"), "RHEL 7.9 kernel-devel 3.10.0-1160.el7",
             PcapPlan::absent);
}
TEST(RealTrees, Rhel7BootableImage) {
  check_tree(find_tree("3.10.0-1160.el7.x86_64", "boot-build"), "RHEL 7.9 bootable image's tree", PcapPlan::absent);
}
TEST(RealTrees, Mainline49) { check_tree(find_tree("4.9.337", "build"), "4.9.337", PcapPlan::absent); }
TEST(RealTrees, Mainline419) { check_tree(find_tree("4.19.322", "build"), "4.19.322", PcapPlan::present); }
TEST(RealTrees, DebianBullseye510) { check_tree(find_tree("", "build", "5.10."), "Debian 11's 5.10", PcapPlan::present); }
TEST(RealTrees, Debian61) { check_tree(debian_61_tree(), "Debian 12's 6.1", PcapPlan::present); }
TEST(RealTrees, DebianTrixie612) { check_tree(find_tree("", "build", "6.12."), "Debian 13's 6.12", PcapPlan::present); }

// The RHEL 7 tree's version and backport are read from the tree itself.
TEST(RealTrees, Rhel7IsCheckedAsItsBackport) {
  const fs::path tree = find_tree("3.10.0-1160.el7.x86_64", "build");
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  if (tree.empty()) GTEST_SKIP() << "no RHEL 7 tree here";
  const auto r = run_shell(skbtrail() + " check -v --kernel-headers " + tree.string(), 600);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("3.10.0-1160.el7.x86_64 (version code 3.10.0, RHEL 7)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("helpers/maps/programs of rhel7"), std::string::npos) << r.out;
  // BPF on tracepoints is in the backport: drop uses the tracepoint, not the kprobe.
  EXPECT_NE(r.out.find("drop.bpf.c skbtrail_tp_kfree_skb [tracepoint]"), std::string::npos) << r.out;
  // bpf_probe_read_str is backported too; nf_ct_l4proto_log_invalid is not
  // there (4.14), so rst carries no conntrack evidence code.
  EXPECT_NE(r.out.find("probe_read_str"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("skbtrail_ct_log_invalid"), std::string::npos) << r.out;
}

TEST(RealTrees, BadTreesAreRefusedInOneLine) {
  const fs::path scratch = fs::temp_directory_path() / ("skbtrail-bad-tree-" + std::to_string(::getpid()));
  fs::create_directories(scratch / "include/linux");
  fs::create_directories(scratch / "include/generated");
  const auto unconfigured = run_shell(skbtrail() + " check --kernel-headers " + scratch.string());
  EXPECT_EQ(unconfigured.exit_code, 2) << unconfigured.out << unconfigured.err;
  EXPECT_NE(unconfigured.err.find("autoconf.h is missing"), std::string::npos) << unconfigured.err;
  EXPECT_EQ(unconfigured.err_lines().size(), 1u) << unconfigured.err;
  std::ofstream(scratch / "include/generated/autoconf.h") << "#define CONFIG_ARM64 1\n";
  const auto arm = run_shell(skbtrail() + " check --all-trees " + scratch.string());
  EXPECT_EQ(arm.exit_code, 2) << arm.out << arm.err;
  EXPECT_NE(arm.err.find("--all-trees '" + scratch.string() + "': the tree is configured for ARM64"),
            std::string::npos)
      << arm.err;
  // Another release than the running kernel's: only a running command refuses it.
  if (!running_as_root()) {
    fs::remove_all(scratch);
    GTEST_SKIP() << "the rest runs drop: needs root";
  }
  std::ofstream(scratch / "include/generated/autoconf.h") << "#define CONFIG_X86_64 1\n";
  fs::create_directories(scratch / "include/config");
  std::ofstream(scratch / "include/config/kernel.release") << "4.19.0-27-amd64\n";
  const auto drop = run_shell(skbtrail() + " drop --kernel-headers " + scratch.string() + " -c 1");
  EXPECT_EQ(drop.exit_code, 2) << drop.out << drop.err;
  EXPECT_NE(drop.err.find("headers are for 4.19.0-27-amd64 but the running kernel is"), std::string::npos) << drop.err;
  EXPECT_NE(drop.err.find("--force-headers"), std::string::npos) << drop.err;
  fs::remove_all(scratch);
}

}  // namespace
}  // namespace skbtrail::test
