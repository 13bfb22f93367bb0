#include "runner/kernel/btf_tree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace skbtrail {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class BtfTree : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "this kernel has no /sys/kernel/btf/vmlinux";
    root_ = fs::temp_directory_path() / ("skbtrail-btf-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    std::ofstream(root_ / "config") << "# comment\nCONFIG_NET_NS=y\nCONFIG_NF_TABLES=m\nCONFIG_HZ=250\n"
                                       "# CONFIG_KPROBES is not set\nCONFIG_LOCALVERSION=\"-test\"\n";
    request_.release = "6.18.0-test";
    request_.version_code = (6 << 16) + (18 << 8);
    request_.kernel_config = root_ / "config";
    request_.cache_root = root_ / "cache";
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }
  fs::path root_;
  BtfTreeRequest request_;
};

TEST_F(BtfTree, TreeHasTheFilesBccIncludes) {
  write_btf_header_tree(request_, root_ / "tree");
  const std::string vmlinux = slurp(root_ / "tree/include/vmlinux.h");
  EXPECT_NE(vmlinux.find("struct sk_buff {"), std::string::npos);
  EXPECT_NE(vmlinux.find("enum skb_drop_reason {"), std::string::npos);
  EXPECT_GT(vmlinux.size(), 1'000'000u);

  const std::string kconfig = slurp(root_ / "tree/include/linux/kconfig.h");
  EXPECT_NE(kconfig.find("#include <vmlinux.h>"), std::string::npos);
  EXPECT_NE(kconfig.find("#define BPF_NO_PRESERVE_ACCESS_INDEX"), std::string::npos);
  EXPECT_NE(kconfig.find("#define _UAPI__LINUX_BPF_H__"), std::string::npos);
  EXPECT_LT(kconfig.find("#include <vmlinux.h>"), kconfig.find("#define _UAPI__LINUX_BPF_H__"));
  // The kernel config becomes macros, as autoconf.h would have them.
  EXPECT_NE(kconfig.find("#define CONFIG_NET_NS 1\n"), std::string::npos);
  EXPECT_NE(kconfig.find("#define CONFIG_NF_TABLES_MODULE 1\n"), std::string::npos);
  EXPECT_NE(kconfig.find("#define CONFIG_HZ 250\n"), std::string::npos);
  EXPECT_NE(kconfig.find("#define CONFIG_LOCALVERSION \"-test\"\n"), std::string::npos);
  EXPECT_EQ(kconfig.find("CONFIG_KPROBES"), std::string::npos);

  EXPECT_NE(slurp(root_ / "tree/include/linux/version.h").find("#define LINUX_VERSION_CODE 397824"),
            std::string::npos);
  EXPECT_NE(slurp(root_ / "tree/include/linux/log2.h").find("#define roundup_pow_of_two"), std::string::npos);
  EXPECT_NE(slurp(root_ / "tree/arch/x86/include/asm/page.h").find("PAGE_SHIFT 12"), std::string::npos);
  EXPECT_TRUE(fs::exists(root_ / "tree/include/uapi/linux/bpf.h"));
  EXPECT_TRUE(fs::exists(root_ / "tree/include/uapi/linux/if_packet.h"));
  EXPECT_EQ(slurp(root_ / "tree/include/config/kernel.release"), "6.18.0-test\n");
}

TEST_F(BtfTree, CacheIsKeyedByReleaseAndBtfAndReused) {
  const fs::path first = ensure_btf_header_tree(request_);
  EXPECT_EQ(first.parent_path(), request_.cache_root / "btf-headers");
  EXPECT_EQ(first.filename().string().rfind("6.18.0-test-", 0), 0u) << first;
  const auto stamp = fs::last_write_time(first / "include/vmlinux.h");
  EXPECT_EQ(ensure_btf_header_tree(request_), first);
  EXPECT_EQ(fs::last_write_time(first / "include/vmlinux.h"), stamp);  // not regenerated

  BtfTreeRequest other = request_;
  other.release = "6.18.1-test";
  EXPECT_NE(btf_tree_key(other), btf_tree_key(request_));
  // Another BTF blob (a rebuilt kernel with the same release) gets its own tree.
  std::ofstream(root_ / "fake.btf") << "not really btf";
  other.release = request_.release;
  other.btf_file = root_ / "fake.btf";
  EXPECT_NE(btf_tree_key(other), btf_tree_key(request_));
}

TEST_F(BtfTree, BadBtfIsReported) {
  std::ofstream(root_ / "fake.btf") << "not really btf";
  BtfTreeRequest bad = request_;
  bad.btf_file = root_ / "fake.btf";
  EXPECT_THROW(write_btf_header_tree(bad, root_ / "bad"), std::runtime_error);
  EXPECT_THROW(ensure_btf_header_tree(bad), std::runtime_error);
  EXPECT_FALSE(fs::exists(request_.cache_root / "btf-headers" / btf_tree_key(bad)));
}

}  // namespace
}  // namespace skbtrail
