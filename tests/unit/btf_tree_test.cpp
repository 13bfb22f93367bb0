#include "runner/kernel/btf_tree.h"

#include <bpf/btf.h>
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

// A loaded module's BTF is split BTF on vmlinux's; this one is made with
// libbpf as the kernel lays out /sys/kernel/btf/<module>: its own types only,
// numbered after vmlinux's and referring to them.
fs::path write_fake_nf_tables_btf(const fs::path& path) {
  std::unique_ptr<btf, decltype(&btf__free)> base(btf__parse("/sys/kernel/btf/vmlinux", nullptr), btf__free);
  std::unique_ptr<btf, decltype(&btf__free)> module(btf__new_empty_split(base.get()), btf__free);
  const int sk_buff = btf__find_by_name_kind(base.get(), "sk_buff", BTF_KIND_STRUCT);
  const int pointer = btf__add_ptr(module.get(), sk_buff);
  // A name vmlinux does not have, so the test sees the module's type.
  const int pktinfo = btf__add_struct(module.get(), "skbtrail_test_pktinfo", 8);
  if (sk_buff <= 0 || pointer <= 0 || pktinfo <= 0 || btf__add_field(module.get(), "skb", pointer, 0, 0)) return {};
  if (btf__find_by_name_kind(base.get(), "nft_pktinfo", BTF_KIND_STRUCT) <= 0) {
    const int nft = btf__add_struct(module.get(), "nft_pktinfo", 8);
    if (nft <= 0 || btf__add_field(module.get(), "skb", pointer, 0, 0)) return {};
  }
  uint32_t size = 0;
  const void* raw = btf__raw_data(module.get(), &size);
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(raw), size);
  return path;
}

TEST_F(BtfTree, NfTablesModuleTypesAreMergedAndRecorded) {
  // This host's vmlinux: nf_tables built in or not, the tree says which.
  write_btf_header_tree(request_, root_ / "plain");
  const bool built_in = slurp(root_ / "plain/include/vmlinux.h").find("struct nft_pktinfo {") != std::string::npos;
  EXPECT_EQ(btf_tree_has_nf_tables(root_ / "plain"), built_in);

  BtfTreeRequest with_module = request_;
  with_module.nf_tables_btf = write_fake_nf_tables_btf(root_ / "nf_tables.btf");
  ASSERT_FALSE(with_module.nf_tables_btf.empty()) << "libbpf could not build the split BTF";
  write_btf_header_tree(with_module, root_ / "merged");
  const std::string merged = slurp(root_ / "merged/include/vmlinux.h");
  EXPECT_NE(merged.find("struct skbtrail_test_pktinfo {\n\tstruct sk_buff *skb;\n};"), std::string::npos);
  EXPECT_NE(merged.find("struct sk_buff {"), std::string::npos);  // vmlinux's types are still all there
  EXPECT_LT(merged.find("struct sk_buff {"), merged.find("struct skbtrail_test_pktinfo {"));
  EXPECT_TRUE(btf_tree_has_nf_tables(root_ / "merged"));
  // Loading (or rebuilding) the module is another tree.
  EXPECT_NE(btf_tree_key(with_module), btf_tree_key(request_));
  EXPECT_FALSE(btf_tree_has_nf_tables(root_ / "no-such-tree"));
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
