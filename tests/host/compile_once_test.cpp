// Compile once, on this machine's kernel: the compile cache (a second run
// loads without compiling; damaged entries, unsafe directories and two runs
// filling one entry) and bundles (run with no compile; refused for another
// kernel or other options, or when others may write the file).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

namespace fs = std::filesystem;

class CompileOnce : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root (bpf(), tracefs)";
    char dir[] = "/tmp/skbtrail-cache-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // A short drop run (it needs no events) with this test's cache.
  CommandResult drop(const std::string& extra = "") {
    return run_shell(skbtrail() + " drop -v --duration 300ms --cache-dir " + dir_.string() + " " + extra, 150);
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ / "objects", ec)) out.push_back(e.path());
    return out;
  }
  fs::path dir_;
};

TEST_F(CompileOnce, TheSecondRunLoadsFromTheCache) {
  const auto cold = drop();
  ASSERT_EQ(cold.exit_code, 0) << cold.err;
  EXPECT_NE(cold.err.find("compiled in"), std::string::npos) << cold.err;
  ASSERT_EQ(entries().size(), 1u);
  const auto warm = drop();
  ASSERT_EQ(warm.exit_code, 0) << warm.err;
  EXPECT_NE(warm.err.find("from the compile cache"), std::string::npos) << warm.err;
  EXPECT_NE(warm.err.find("attached tracepoint:skb:kfree_skb"), std::string::npos) << warm.err;
  // Other options are another program, another entry; --no-cache compiles.
  EXPECT_NE(drop("--dport 9").err.find("compiled in"), std::string::npos);
  EXPECT_EQ(entries().size(), 2u);
  EXPECT_NE(drop("--no-cache").err.find("compiled in"), std::string::npos);
  const auto listed = run_shell(skbtrail() + " cache list --cache-dir " + dir_.string());
  EXPECT_NE(listed.out.find("2 entries"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("drop.bpf.c"), std::string::npos) << listed.out;
  const auto cleared = run_shell(skbtrail() + " cache clear --cache-dir " + dir_.string());
  EXPECT_NE(cleared.out.find("removed 2 entries"), std::string::npos) << cleared.out;
  EXPECT_TRUE(entries().empty());
}

TEST_F(CompileOnce, ADamagedEntryIsCompiledAgain) {
  ASSERT_EQ(drop().exit_code, 0);
  ASSERT_EQ(entries().size(), 1u);
  const fs::path entry = entries()[0];
  const auto size = fs::file_size(entry);
  fs::resize_file(entry, size / 2);  // truncated
  auto r = drop();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("is damaged (truncated): compiling again"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("compiled in"), std::string::npos) << r.err;
  EXPECT_EQ(fs::file_size(entry), size);  // written whole again
  {
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 40));
    f.put('\x5a');  // one byte flipped in the instructions
  }
  r = drop();
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("attached"), std::string::npos) << r.err;
}

TEST_F(CompileOnce, UnsafeCacheDirectoriesAreRefused) {
  ::chmod(dir_.c_str(), 0777);
  auto r = drop();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cache directory " + dir_.string() + " can be written by others (mode 777)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("chmod go-w"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("attached"), std::string::npos) << "nothing may be attached: " << r.err;
  ::chmod(dir_.c_str(), 0700);
  ::chown(dir_.c_str(), 65534, 65534);
  r = drop();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is owned by uid 65534, not root"), std::string::npos) << r.err;
  ::chown(dir_.c_str(), 0, 0);
}

TEST_F(CompileOnce, TwoRunsFillingOneEntryLeaveOneWholeEntry) {
  const std::string run = skbtrail() + " drop -v --duration 300ms --cache-dir " + dir_.string();
  const auto r = run_shell("(" + run + " 2>" + dir_.string() + "/a.err & " + run + " 2>" + dir_.string() +
                               "/b.err & wait) >/dev/null",
                           300);
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_EQ(entries().size(), 1u) << "one entry, no temporary left";
  EXPECT_EQ(entries()[0].extension(), ".obj");
  EXPECT_NE(drop().err.find("from the compile cache"), std::string::npos) << "the entry is whole";
}

class Bundles : public CompileOnce {
 protected:
  fs::path bundle(const std::string& args, int expect_exit = 0) {
    const fs::path file = dir_ / "b.bundle";
    const auto r = run_shell(skbtrail() + " bundle " + args + " -o " + file.string(), 300);
    EXPECT_EQ(r.exit_code, expect_exit) << r.out << r.err;
    return file;
  }
};

TEST_F(Bundles, RunWithoutCompilingAndRefuseWhatDoesNotFit) {
  const fs::path file = bundle("drop --dport 9");
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  // Same options (and run-only ones: --json, --duration): no compile.
  auto r = run_shell(skbtrail() + " drop --dport 9 --json --duration 300ms -v --bundle " + file.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("from bundle " + file.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("attached tracepoint:skb:kfree_skb"), std::string::npos) << r.err;
  // Other options change the program: refused, naming both.
  r = run_shell(skbtrail() + " drop --dport 80 --duration 300ms --bundle " + file.string());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("was built for 'skbtrail drop filter dport 9'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("asks for 'skbtrail drop filter dport 80'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("attached"), std::string::npos) << r.err;
  // Another command.
  r = run_shell(skbtrail() + " rst --duration 300ms --bundle " + file.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is for 'skbtrail drop', not 'skbtrail rst'"), std::string::npos) << r.err;
  // Others may write it: refused before anything is read from it.
  ::chmod(file.c_str(), 0666);
  r = run_shell(skbtrail() + " drop --dport 9 --duration 300ms --bundle " + file.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("can be written by others (mode 666)"), std::string::npos) << r.err;
}

TEST_F(Bundles, ABundleForAnotherKernelIsRefused) {
  // Debian's own headers (tools/setup.sh --vm installs them for the test VM)
  // are another kernel's than this one.
  utsname uts{};
  ::uname(&uts);
  std::string tree;
  for (const auto& entry : fs::directory_iterator("/lib/modules"))
    if (entry.path().filename() != uts.release && fs::exists(entry.path() / "build/include"))
      tree = entry.path().string();
  if (tree.empty()) GTEST_SKIP() << "no other kernel's headers in /lib/modules";
  const std::string release = fs::path(tree).filename().string();
  const fs::path file = bundle("drop --kernel-headers " + tree + "/build --kernel-release " + release);
  const auto r = run_shell(skbtrail() + " drop --duration 300ms --bundle " + file.string());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("was built for kernel " + release + ", this one is"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skbtrail bundle drop ... --kernel-headers DIR"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace skbtrail::test

namespace skbtrail::test {
namespace {

// --netns is bound when the program is loaded: one compiled program (one
// cache entry) filters any namespace, and only that one.
TEST_F(CompileOnce, NetnsIsBoundAtLoadTime) {
  const std::string script = R"(set -u
for n in a b; do ip netns add skbt_late_$n; ip -n skbt_late_$n link set lo up; done
trap 'ip netns del skbt_late_a; ip netns del skbt_late_b' EXIT
for want in a b; do
  ino=$(stat -L -c %i /run/netns/skbt_late_$want)
  )" + skbtrail() + R"( drop -v --json --netns $ino -c 1 --cache-dir )" + dir_.string() +
                             R"( >$OUT/$want.json 2>$OUT/$want.err &
  pid=$!
  for i in $(seq 600); do grep -q attached $OUT/$want.err && break; sleep 0.1; done
  for n in a b; do ip netns exec skbt_late_$n timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2>/dev/null; done
  wait $pid
  echo "$want $ino" >> $OUT/inodes
done
)";
  const auto r = run_shell("export OUT=" + dir_.string() + "; " + script, 200);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream inodes(dir_ / "inodes");
  std::string name, ino;
  while (inodes >> name >> ino) {
    std::ifstream json(dir_ / (name + ".json"));
    const std::string first{std::istreambuf_iterator<char>(json), std::istreambuf_iterator<char>()};
    EXPECT_NE(first.find("\"netns\":" + ino), std::string::npos) << name << ": " << first;
  }
  std::ifstream b_err(dir_ / "b.err");
  const std::string second{std::istreambuf_iterator<char>(b_err), std::istreambuf_iterator<char>()};
  EXPECT_NE(second.find("from the compile cache"), std::string::npos) << "another netns, the same program: " << second;
  EXPECT_EQ(entries().size(), 1u);
}

}  // namespace
}  // namespace skbtrail::test
