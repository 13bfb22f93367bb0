#include "runner/kernel/headers.h"

#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runner/common/errors.h"

namespace skbtrail {
namespace {

namespace fs = std::filesystem;

class Headers : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("skbtrail-headers-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "tree/include/linux");
    fs::create_directories(root_ / "tree/include/generated");
    std::ofstream(root_ / "tree/include/generated/utsrelease.h") << "#define UTS_RELEASE \"4.15.0-213-generic\"\n";
    std::ofstream(root_ / "tree/include/generated/autoconf.h") << "#define CONFIG_X86_64 1\n#define CONFIG_NET 1\n";
    kernel_.release = "6.18.44-fc-v769";
    kernel_.version_code = kernel_version(6, 18, 44);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string error_of(const HeaderOptions& options) {
    try {
      choose_headers(kernel_, options);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "<no error>";
  }

  fs::path root_;
  KernelInfo kernel_;
};

TEST_F(Headers, TreeReleaseComesFromUtsRelease) {
  EXPECT_EQ(header_tree_release(root_ / "tree"), "4.15.0-213-generic");
  EXPECT_EQ(header_tree_release(root_), "");
}

// Debian's split: the flavour tree (generated files) names the common tree
// in its Makefile; BCC gets one merged view of both.
TEST_F(Headers, SplitTreesAreFoundAndMerged) {
  const fs::path build = root_ / "flavour-headers";
  const fs::path common = root_ / "common-headers";
  fs::create_directories(build / "include/config");
  fs::create_directories(build / "include/generated");
  fs::create_directories(build / "arch/x86/include/generated");
  std::ofstream(build / "include/config/kernel.release") << "9.9.0-test-amd64\n";
  std::ofstream(build / "Makefile") << "include " << common.string() << "/Makefile\n";
  fs::create_directories(common / "include/linux");
  fs::create_directories(common / "arch/x86/include/asm");
  std::ofstream(common / "include/linux/kconfig.h") << "/* common */\n";
  std::ofstream(common / "Makefile") << "# common\n";

  const auto layout = header_tree_layout(build);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->build, fs::canonical(build));
  EXPECT_EQ(layout->source, fs::canonical(common));
  const fs::path merged = merged_header_tree(*layout, root_ / "cache");
  EXPECT_TRUE(fs::exists(merged / "include/linux/kconfig.h"));           // from common
  EXPECT_TRUE(fs::is_directory(merged / "include/generated"));           // from build
  EXPECT_TRUE(fs::is_directory(merged / "arch/x86/include/asm"));        // merged one level down
  EXPECT_TRUE(fs::is_directory(merged / "arch/x86/include/generated"));
  std::ifstream makefile(merged / "Makefile");
  std::string first;
  std::getline(makefile, first);
  EXPECT_EQ(first.rfind("include ", 0), 0u);  // the flavour's wins
  EXPECT_EQ(merged_header_tree(*layout, root_ / "cache"), merged);  // cached

  // /lib/modules/<rel>/ with only build -> the same pair.
  fs::create_directories(root_ / "modules");
  fs::create_directory_symlink(build, root_ / "modules/build");
  const auto via_modules = header_tree_layout(root_ / "modules");
  ASSERT_TRUE(via_modules);
  EXPECT_EQ(via_modules->source, fs::canonical(common));
  EXPECT_FALSE(header_tree_layout(root_ / "cache-nothing-here"));
}

TEST_F(Headers, ForeignTreeOfAnotherReleaseIsRefusedUnlessForced) {
  HeaderOptions options;
  options.kernel_headers = root_ / "tree";
  const std::string refusal = error_of(options);
  EXPECT_NE(refusal.find("4.15.0-213-generic"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("--force-headers"), std::string::npos) << refusal;
  EXPECT_THROW(choose_headers(kernel_, options), UsageError);

  options.force = true;
  options.version_code = kernel_version(4, 15, 18);
  const HeaderChoice choice = choose_headers(kernel_, options);
  EXPECT_EQ(choice.mode, "foreign");
  EXPECT_EQ(choice.kernel_source, fs::absolute(root_ / "tree"));
  EXPECT_EQ(choice.version_code, kernel_version(4, 15, 18));
  EXPECT_FALSE(choice.btf);
}

TEST_F(Headers, ForeignTreeMatchingTheRunningKernelIsAccepted) {
  HeaderOptions options;
  options.kernel_headers = root_ / "tree";
  options.kernel_release = kernel_.release;
  EXPECT_EQ(choose_headers(kernel_, options).mode, "foreign");
}

// A tree read as the kernel it describes: release, LINUX_VERSION_CODE (not
// the release's numbers) and RHEL major.
TEST_F(Headers, TreeDescribesItsKernel) {
  fs::create_directories(root_ / "tree/include/generated/uapi/linux");
  std::ofstream(root_ / "tree/include/generated/uapi/linux/version.h")
      << "#define LINUX_VERSION_CODE 200192\n#define KERNEL_VERSION(a,b,c) (((a) << 16) + ((b) << 8) + (c))\n"
         "#define RHEL_MAJOR 7\n#define RHEL_MINOR 9\n";
  const HeaderTreeKernel tree = describe_header_tree(root_ / "tree");
  EXPECT_EQ(tree.release, "4.15.0-213-generic");
  EXPECT_EQ(tree.version_code, 200192u);  // 3.14.0: what version.h says wins
  EXPECT_EQ(tree.rhel_major, 7);
  HeaderOptions options;
  options.kernel_headers = root_ / "tree";
  const KernelInfo k = kernel_of_header_tree(options);
  EXPECT_EQ(k.rhel_major, 7);
  EXPECT_TRUE(k.has_kprobes);  // RHEL 7's backport
  EXPECT_EQ(rhel_major_of_release("3.10.0-1160.el7.x86_64"), 7);
  EXPECT_EQ(rhel_major_of_release("4.18.0-513.el8_9.x86_64"), 8);
  // A release that is not RHEL's: this machine's own (Debian's), read here
  // rather than written down, since its ABI number changes with updates.
  utsname uts{};
  ASSERT_EQ(::uname(&uts), 0);
  if (std::string(uts.release).find(".el") == std::string::npos) EXPECT_EQ(rhel_major_of_release(uts.release), 0) << uts.release;
}

// Trees BCC cannot use here are refused in one line naming the fix.
TEST_F(Headers, UnconfiguredAndForeignArchitectureTreesAreRefused) {
  HeaderOptions options;
  options.kernel_headers = root_ / "tree";
  options.force = true;
  std::ofstream(root_ / "tree/include/generated/autoconf.h") << "#define CONFIG_ARM64 1\n";
  std::string message = error_of(options);
  EXPECT_NE(message.find("configured for ARM64"), std::string::npos) << message;
  EXPECT_NE(message.find("x86_64 kernel-devel"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  fs::remove(root_ / "tree/include/generated/autoconf.h");
  message = error_of(options);
  EXPECT_NE(message.find("include/generated/autoconf.h is missing"), std::string::npos) << message;
  EXPECT_THROW(choose_headers(kernel_, options), UsageError);
}

TEST_F(Headers, UnreadableOrEmptyDirectoriesAreNamed) {
  HeaderOptions options;
  options.kernel_headers = root_ / "missing";
  EXPECT_NE(error_of(options).find("not a readable directory"), std::string::npos);
  fs::create_directories(root_ / "empty");
  options.kernel_headers = root_ / "empty";
  EXPECT_NE(error_of(options).find("no include/linux/"), std::string::npos);
}

TEST_F(Headers, NothingUsableSaysWhatToInstall) {
  const std::string message = error_of(HeaderOptions{});
  EXPECT_NE(message.find("linux-headers-6.18.44-fc-v769"), std::string::npos) << message;
  EXPECT_NE(message.find("BTF"), std::string::npos);
  HeaderOptions headers_mode;
  headers_mode.mode = HeaderMode::Headers;
  EXPECT_NE(error_of(headers_mode).find("--headers headers"), std::string::npos);
  HeaderOptions btf_mode;
  btf_mode.mode = HeaderMode::Btf;
  EXPECT_NE(error_of(btf_mode).find("--headers btf"), std::string::npos);
}

TEST_F(Headers, RunningHeadersWinInAutoMode) {
  kernel_.headers_dir = root_ / "tree";
  kernel_.btf_path = "/sys/kernel/btf/vmlinux";
  const HeaderChoice choice = choose_headers(kernel_, HeaderOptions{});
  EXPECT_EQ(choice.mode, "headers");
  EXPECT_TRUE(choice.kernel_source.empty());  // BCC finds /lib/modules/<rel>/build itself
}

TEST(VersionCode, Parsing) {
  EXPECT_EQ(parse_version_code("6.18.44-fc-v769"), kernel_version(6, 18, 44));
  EXPECT_EQ(parse_version_code("3.10.0-1160.el7.x86_64"), kernel_version(3, 10, 0));
  EXPECT_EQ(parse_version_code("4.9.300"), kernel_version(4, 9, 255));  // sublevel saturates like the kernel's
  EXPECT_EQ(parse_version_code("5.4"), kernel_version(5, 4, 0));
  EXPECT_FALSE(parse_version_code("linux"));
  EXPECT_EQ(format_version_code(kernel_version(4, 15, 18)), "4.15.18");
}

}  // namespace
}  // namespace skbtrail
