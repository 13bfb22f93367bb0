// Signatures read from the kernel's own description (runner/kernel/signatures.h).
#include "runner/kernel/signatures.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runner/common/version.h"
#include "runner/kernel/abi.h"

namespace skbtrail {
namespace {

namespace fs = std::filesystem;

TEST(Signatures, DeclarationsAreCounted) {
  const fs::path header = fs::temp_directory_path() / ("skbtrail-sig-" + std::to_string(::getpid()) + ".h");
  std::ofstream(header) << "static inline void __tcp_send_active_reset(struct sock *sk) {}\n"
                           "#define tcp_send_active_reset_x(a) f(a)\n"
                           "void tcp_send_active_reset(struct sock *sk, gfp_t priority,\n"
                           "                           enum sk_rst_reason reason);\n"
                           "int tcp_v4_rcv(struct sk_buff *skb);\n"
                           "void tcp_done(void);\n"
                           "\tx = tcp_connect(sk);\n";
  EXPECT_EQ(declared_function_arity(header, "tcp_send_active_reset"), 3);
  EXPECT_EQ(declared_function_arity(header, "tcp_v4_rcv"), 1);
  EXPECT_EQ(declared_function_arity(header, "tcp_done"), 0);
  EXPECT_EQ(declared_function_arity(header, "tcp_connect"), std::nullopt);  // a call, not a declaration
  EXPECT_EQ(declared_function_arity(header, "tcp_close"), std::nullopt);
  EXPECT_EQ(declared_function_arity("/nonexistent.h", "tcp_close"), std::nullopt);
  fs::remove(header);
}

// Debian's 6.12 declares tcp_send_active_reset(sk, reason): the reason is
// argument 2 there, whatever 6.10's signature was.
TEST(Signatures, TheReasonArgumentFollowsThePrototype) {
  const abi::Kernel k612{kernel_version(6, 12, 0), 0};
  auto has = [](const std::vector<std::string>& v, const std::string& f) {
    return std::find(v.begin(), v.end(), f) != v.end();
  };
  EXPECT_TRUE(has(abi::rst_reason_cflags(k612, 2), "-DSKBTRAIL_ACTIVE_RESET_REASON_ARG=2"));
  EXPECT_TRUE(has(abi::rst_reason_cflags(k612, 3), "-DSKBTRAIL_ACTIVE_RESET_REASON_ARG=3"));
  EXPECT_TRUE(has(abi::rst_reason_cflags(k612, std::nullopt), "-DSKBTRAIL_ACTIVE_RESET_REASON_ARG=3"));
  // Before 6.10 there is no reason, whatever the arity (4.19: sk, priority).
  EXPECT_TRUE(abi::rst_reason_cflags({kernel_version(4, 19, 0), 0}, 2).empty());
  // The real tree, where tools/fetch-debian-kernel.sh put it.
  std::error_code ec;
  for (const auto& kernel : fs::directory_iterator("/var/cache/skbtrail-kernels", ec)) {
    if (!kernel.path().filename().string().starts_with("6.12.")) continue;
    for (const auto& half : fs::directory_iterator(kernel.path(), ec))
      if (half.path().filename().string().ends_with("-common"))
        EXPECT_EQ(declared_function_arity(half.path() / "include/net/tcp.h", "tcp_send_active_reset"), 2) << half.path();
  }
}

TEST(Signatures, BtfCountsArguments) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no BTF on this kernel";
  const auto arity = btf_function_arity("/sys/kernel/btf/vmlinux", "tcp_v4_rcv");
  if (!arity) GTEST_SKIP() << "tcp_v4_rcv not in this kernel's BTF";
  EXPECT_EQ(*arity, 1);
  EXPECT_EQ(btf_function_arity("/sys/kernel/btf/vmlinux", "no_such_function_here"), std::nullopt);
}

}  // namespace
}  // namespace skbtrail
