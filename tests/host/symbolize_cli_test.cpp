// skbtrail symbolize, the command: faddr2line's output on stdout, one error
// line per bad frame, exit 1 when any frame failed; `-` annotates text.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

namespace fs = std::filesystem;

class SymbolizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("skbtrail-symcli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "k.c") << "static inline __attribute__((always_inline)) int leaf(volatile int *p) { *p = 3; return *p; }\n"
                                   "volatile int sink;\n"
                                   "__attribute__((noinline)) int outer(int x) { return leaf(&sink) + x; }\n";
    const auto built = run_shell("cd '" + dir_.string() +
                                 "' && gcc -g -O2 -mcmodel=kernel -fno-pie -no-pie -nostdlib -static "
                                 "-Wl,-Ttext=0xffffffff81000000 -Wl,-e,outer -o vmlinux k.c");
    ASSERT_EQ(built.exit_code, 0) << built.err;  // tools/setup.sh installs gcc
    vmlinux_ = (dir_ / "vmlinux").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string vmlinux_;
};

TEST_F(SymbolizeCli, FaddrLineOutputAndPerFrameErrors) {
  const auto r = run_shell(skbtrail() + " symbolize --vmlinux " + vmlinux_ + " outer+0x4 nope+0x1 garbage");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out.rfind("outer+0x4/0x", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nleaf at k.c:1\n (inlined by) outer at k.c:3\n"), std::string::npos) << r.out;
  ASSERT_EQ(r.err_lines().size(), 2u) << r.err;
  EXPECT_NE(r.err_lines()[0].find("no symbol 'nope'"), std::string::npos);
  EXPECT_NE(r.err_lines()[1].find("garbage: not a frame"), std::string::npos);
}

TEST_F(SymbolizeCli, AnnotatesTextFromStdin) {
  const auto r = run_shell("printf ' ? outer+0x4\\nplain line\\n' | " + skbtrail() + " symbolize --vmlinux " +
                           vmlinux_ + " -");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(" ? outer+0x4 (leaf at k.c:1, inlined by outer at k.c:3)\nplain line\n"), std::string::npos)
      << r.out;
}

TEST_F(SymbolizeCli, MissingVmlinuxIsOneLineWithThePackage) {
  const auto r = run_shell(skbtrail() + " symbolize --vmlinux /nonexistent/vmlinux outer+0x4");
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/vmlinux: cannot read"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace skbtrail::test
