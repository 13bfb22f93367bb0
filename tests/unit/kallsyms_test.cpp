#include "runner/kernel/kallsyms.h"

#include <gtest/gtest.h>

#include <sstream>

namespace skbtrail {
namespace {

Kallsyms parse(const std::string& text) {
  std::istringstream in(text);
  return Kallsyms::parse(in);
}

constexpr const char* kSample =
    "ffffffff81000000 T _text\n"
    "ffffffff81a2b000 T tcp_v4_rcv\n"
    "ffffffff81a2c000 t tcp_v4_fill_cb\n"
    "ffffffff81a2c000 T tcp_v4_fill_cb_alias\n"
    "ffffffff82000000 D some_data\n"
    "ffffffff81a2d000 t ip_rcv_core.isra.0\n"
    "ffffffffc0100000 t nft_do_chain\t[nf_tables]\n"
    "ffffffffc0100400 t nft_immediate_eval\t[nf_tables]\n"
    "ffffffffc0200000 T veth_xmit\t[veth]\n";

TEST(Kallsyms, DescribesOffsetsInsideFunctions) {
  const auto k = parse(kSample);
  EXPECT_EQ(k.describe(0xffffffff81a2b099), "tcp_v4_rcv+0x99");
  EXPECT_EQ(k.describe(0xffffffff81a2b000), "tcp_v4_rcv+0x0");
  EXPECT_EQ(k.describe(0xffffffff81a2d010), "ip_rcv_core.isra.0+0x10");
}

TEST(Kallsyms, ModulesAreNamed) {
  const auto k = parse(kSample);
  EXPECT_EQ(k.describe(0xffffffffc0100044), "nft_do_chain+0x44 [nf_tables]");
  EXPECT_EQ(k.describe(0xffffffffc0200008), "veth_xmit+0x8 [veth]");
  const auto hit = k.lookup(0xffffffffc0100401);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->module, "nf_tables");
  EXPECT_EQ(hit->name, "nft_immediate_eval");
}

TEST(Kallsyms, DataSymbolsAreIgnoredAndUnknownAddressesStayNumeric) {
  const auto k = parse(kSample);
  EXPECT_EQ(k.size(), 8u);
  EXPECT_FALSE(k.has_function("some_data"));
  EXPECT_EQ(k.describe(0x1000), "0x1000");
  EXPECT_EQ(k.describe(0), "0x0");
}

TEST(Kallsyms, FunctionNamesAreFound) {
  const auto k = parse(kSample);
  EXPECT_TRUE(k.has_function("tcp_v4_rcv"));
  EXPECT_TRUE(k.has_function("nft_do_chain"));
  EXPECT_FALSE(k.has_function("tcp_v4_send_reset"));
}

TEST(Kallsyms, HiddenAddressesGiveNoLookups) {
  // What a non-root reader sees with kptr_restrict.
  const auto k = parse("0000000000000000 T tcp_v4_rcv\n0000000000000000 T ip_rcv\n");
  EXPECT_FALSE(k.lookup(0xffffffff81a2b099));
  EXPECT_EQ(k.describe(0xffffffff81a2b099), "0xffffffff81a2b099");
}

TEST(Kallsyms, MalformedLinesAreSkipped) {
  const auto k = parse("garbage\nzzzz T bad_address\nffffffff81000000 T ok\n\n");
  EXPECT_EQ(k.size(), 1u);
  EXPECT_EQ(k.describe(0xffffffff81000001), "ok+0x1");
}

}  // namespace
}  // namespace skbtrail
