// tools/vm's failure paths: exit 125 when there is nothing to boot, 124 when
// the command outlives --timeout (the VM is killed, nothing is left running);
// how --kernel finds a kernel (--describe, no VM needed); and the usage
// errors of tools/fetch-debian-kernel.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

namespace fs = std::filesystem;

const std::string kVm = std::string(SKBTRAIL_TESTS_DIR) + "/../tools/vm";
const std::string kFetch = std::string(SKBTRAIL_TESTS_DIR) + "/../tools/fetch-debian-kernel.sh";

std::string canonical(const std::string& path) { return fs::canonical(path).string(); }

// A shared legacy kernel, looked for in tools/vm's default order (beside the
// checkout first, then /work/shared): a checkout elsewhere (CI clones into
// another directory) must expect the copy tools/vm itself picks.
std::string shared_kernel(const std::string& release) {
  for (const std::string dir : {std::string(SKBTRAIL_TESTS_DIR) + "/../../shared/kernels", std::string("/work/shared/kernels")}) {
    const std::string candidate = dir + "/" + release;
    if (fs::exists(candidate + "/bzImage")) return candidate;
  }
  return "/work/shared/kernels/" + release;  // absent: the tests skip naming it
}
const std::string kShared419 = shared_kernel("4.19.322");
const std::string kShared310 = shared_kernel("3.10.0-1160.el7.x86_64");

// A scratch directory removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/skbtrail-vmtool-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

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

TEST(VmTool, DirectoryWithoutImageIs125) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  write_file(fs::path(dir.path()) / "build/Makefile", "# headers only\n");
  const auto r = run_shell(kVm + " --kernel " + dir.path() + " -- true", 60);
  EXPECT_EQ(r.exit_code, 125) << r.out << r.err;
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find(dir.path() + " holds no bzImage or vmlinuz"), std::string::npos) << r.err;
}

// A kernel directory as tools/fetch-debian-kernel.sh lays it out: found by
// path, by release through SKBTRAIL_KERNEL_DIRS, and --headers overrides.
TEST(VmTool, DescribeKernelDirectory) {
  ScratchDir base;
  ASSERT_FALSE(base.path().empty());
  const fs::path dir = fs::path(base.path()) / "kdir";
  write_file(dir / "vmlinuz", "not a real image\n");
  write_file(dir / "release", "9.9.9-test\n");
  write_file(dir / "modules/modules.dep", "");
  write_file(dir / "build/include/config/kernel.release", "9.9.9-other\n");
  write_file(fs::path(base.path()) / "other-headers/Makefile", "\n");
  const std::string d = canonical(dir.string());
  const std::string expected = "release=9.9.9-test\nimage=" + d + "/vmlinuz\nheaders=" + d + "/build\nmodules=" + d +
                               "/modules\n";

  auto r = run_shell(kVm + " --kernel " + dir.string() + " --describe");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);

  r = run_shell("SKBTRAIL_KERNEL_DIRS=/nonexistent:" + base.path() + " " + kVm + " --kernel 9.9.9-test --describe");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
  r = run_shell("SKBTRAIL_KERNEL_DIRS=" + base.path() + " " + kVm + " --kernel kdir --release");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "9.9.9-test\n");

  r = run_shell(kVm + " --kernel " + dir.string() + " --headers " + base.path() + "/other-headers --describe");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nheaders=" + canonical(base.path() + "/other-headers") + "\n"), std::string::npos) << r.out;
}

TEST(VmTool, DescribeSharedLegacyKernelByPathAndRelease) {
  if (!fs::exists(kShared419 + "/bzImage")) GTEST_SKIP() << kShared419 << " is absent (the shared legacy kernels)";
  const std::string d = canonical(kShared419);
  const std::string expected = "release=4.19.322\nimage=" + d + "/bzImage\nheaders=" + d + "/build\nmodules=\n";
  auto r = run_shell(kVm + " --kernel " + kShared419 + " --describe");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
  // By release, through the default search path.
  r = run_shell("unset SKBTRAIL_KERNEL_DIRS; " + kVm + " --kernel 4.19.322 --describe");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
}

TEST(VmTool, DescribeRhel7UsesTheBootableImagesHeaders) {
  if (!fs::exists(kShared310 + "/boot-build")) GTEST_SKIP() << kShared310 << " is absent (the shared legacy kernels)";
  const auto r = run_shell("unset SKBTRAIL_KERNEL_DIRS; " + kVm + " --kernel 3.10.0-1160.el7.x86_64 --describe");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("release=3.10.0-1160.el7.x86_64\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nheaders=" + canonical(kShared310) + "/boot-build\n"), std::string::npos) << r.out;
}

// A boot that does not reach the command in --boot-timeout is tried once
// more (a hung boot must not cost the whole --timeout).
TEST(VmTool, ABootThatHangsIsTriedOnceMore) {
  if (run_shell("command -v qemu-system-x86_64").exit_code != 0) GTEST_SKIP() << "qemu missing (tools/setup.sh --vm)";
  const std::string shared = shared_kernel("4.9.337");
  if (!fs::exists(shared + "/bzImage")) GTEST_SKIP() << "the shared 4.9 kernel is absent";
  // One second is too short for any boot: the first is given up, the second runs.
  const auto r = run_shell(kVm + " --kernel " + shared + " --boot-timeout 1 -- echo booted", 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "booted\n") << r.err;
  EXPECT_NE(r.err.find("did not reach the command within 1s; booting it once more"), std::string::npos) << r.err;
}

TEST(VmTool, FetchDebianKernelRejectsAnUnknownSuite) {
  ScratchDir dest;
  const auto r = run_shell(kFetch + " sid --dest " + dest.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("unknown suite 'sid' (use bullseye or trixie)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace skbtrail::test
