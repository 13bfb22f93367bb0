// skbtrail doctor against this machine's kernel: its rows must agree with
// what the kernel exposes, and the drop program must compile.
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <filesystem>
#include <regex>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

namespace fs = std::filesystem;

std::string release() {
  utsname uts{};
  ::uname(&uts);
  return uts.release;
}

bool row(const std::string& out, const std::string& check, const std::string& status) {
  return std::regex_search(out, std::regex("\n" + check + " +" + status + " "));
}

TEST(DoctorHost, RowsMatchTheKernel) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  const auto r = run_shell(skbtrail() + " doctor");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const bool kprobes = fs::exists("/sys/bus/event_source/devices/kprobe");
  EXPECT_TRUE(row(r.out, "kprobes", kprobes ? "yes" : "no")) << r.out;
  const bool btf = fs::exists("/sys/kernel/btf/vmlinux");
  EXPECT_TRUE(row(r.out, "BTF", btf ? "yes" : "no")) << r.out;
  const bool headers = fs::exists(fs::path("/lib/modules") / release() / "build/include");
  if (!headers && btf) {
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\nheaders used +btf +generated from BTF in "))) << r.out;
  }
  if (headers) {
    EXPECT_TRUE(row(r.out, "headers used", "headers")) << r.out;
  }
  if (!fs::exists("/sys/kernel/tracing/kprobe_events") && !fs::exists("/sys/kernel/debug/tracing/kprobe_events")) {
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\nleftover kprobes +none +no kprobe_events here"))) << r.out;
  }
  EXPECT_TRUE(row(r.out, "compile drop.bpf.c", "ok")) << r.out;
  EXPECT_TRUE(row(r.out, "drop", "ready")) << r.out;
}

TEST(DoctorHost, ImpossibleHeaderChoiceMakesEverythingUnusable) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  if (fs::exists(fs::path("/lib/modules") / release() / "build/include"))
    GTEST_SKIP() << "this kernel has headers, so --headers headers would work";
  const auto r = run_shell(skbtrail() + " doctor --headers headers");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(row(r.out, "drop", "unusable")) << r.out;
  EXPECT_NE(r.out.find("nothing can run here"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace skbtrail::test
