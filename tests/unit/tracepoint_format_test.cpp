#include "runner/kernel/tracepoint_format.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace skbtrail {
namespace {

TracepointFormat fixture(const std::string& name) {
  return read_tracepoint_format(std::string(SKBTRAIL_FIXTURES) + "/tracepoint/" + name);
}

TEST(TracepointFormat, Kernel419HasNoReason) {
  const auto f = fixture("kfree_skb-4.19.format");
  EXPECT_EQ(f.name, "kfree_skb");
  EXPECT_EQ(f.id, 1193u);
  ASSERT_NE(f.field("location"), nullptr);
  EXPECT_EQ(f.field("location")->offset, 16);
  EXPECT_EQ(f.field("location")->type, "void *");
  EXPECT_EQ(f.field("protocol")->size, 2);
  EXPECT_EQ(f.field("reason"), nullptr);
  EXPECT_EQ(f.symbolic_for("reason"), nullptr);
  EXPECT_TRUE(f.symbolic.empty());
}

TEST(TracepointFormat, Kernel517ReasonNames) {
  const auto f = fixture("kfree_skb-5.17.format");
  ASSERT_NE(f.field("reason"), nullptr);
  EXPECT_EQ(f.field("reason")->type, "enum skb_drop_reason");
  EXPECT_EQ(f.field("reason")->offset, 28);
  const auto* table = f.symbolic_for("reason");
  ASSERT_NE(table, nullptr);
  const ValueNames names(*table);
  EXPECT_EQ(names.size(), 7u);
  EXPECT_EQ(names.name_or_number(2), "NO_SOCKET");  // 5.17 numbering
  EXPECT_EQ(names.name_or_number(6), "UDP_CSUM");
  EXPECT_EQ(names.name_or_number(99), "99");
}

TEST(TracepointFormat, Kernel618ReasonNamesAreRenumbered) {
  const auto f = fixture("kfree_skb-6.18.format");
  EXPECT_EQ(f.field("rx_sk")->offset, 24);
  EXPECT_EQ(f.field("reason")->offset, 36);
  const ValueNames names(*f.symbolic_for("reason"));
  EXPECT_EQ(names.name_or_number(3), "NO_SOCKET");  // the same reason, another number
  EXPECT_EQ(names.name_or_number(12), "NETFILTER_DROP");
  EXPECT_EQ(names.name_or_number(128), "MAX");
  EXPECT_GT(names.size(), 120u);
}

TEST(TracepointFormat, TcpSendResetArraysAndSymbolicStates) {
  const auto f = fixture("tcp_send_reset-6.18.format");
  const auto* saddr = f.field("saddr");
  ASSERT_NE(saddr, nullptr);
  EXPECT_EQ(saddr->array_length, 28);
  EXPECT_EQ(saddr->type, "__u8");
  EXPECT_EQ(saddr->offset, 32);
  EXPECT_TRUE(f.field("state")->is_signed);
  ASSERT_EQ(f.symbolic.size(), 2u);

  // TCP states are left symbolic by the kernel: without a resolver none map.
  const auto* states = f.symbolic_for("state");
  ASSERT_NE(states, nullptr);
  EXPECT_EQ(ValueNames(*states).size(), 0u);
  const ValueNames resolved(*states, [](std::string_view token) -> std::optional<int64_t> {
    if (token == "TCP_ESTABLISHED") return 1;
    if (token == "TCP_LISTEN") return 10;
    return std::nullopt;
  });
  EXPECT_EQ(resolved.size(), 2u);
  EXPECT_EQ(resolved.name_or_number(10), "TCP_LISTEN");

  const ValueNames reasons(*f.symbolic_for("reason"));
  EXPECT_EQ(reasons.name_or_number(1), "NO_SOCKET");
  EXPECT_EQ(reasons.name_or_number(12), "TCP_ABORT_ON_LINGER");
}

TEST(TracepointFormat, MalformedInputIsRejected) {
  EXPECT_THROW(parse_tracepoint_format("name: x\nprint fmt: \"\"\n"), std::runtime_error);
  EXPECT_THROW(parse_tracepoint_format("field:int a;\toffset:zz;\tsize:4;\tsigned:1;\n"), std::runtime_error);
  EXPECT_THROW(parse_tracepoint_format("field:int a;\toffset:0;\tsize:4;\n"
                                       "print fmt: \"%s\", __print_symbolic(REC->a, { 1, \"A\" }\n"),
               std::runtime_error);
  EXPECT_THROW(read_tracepoint_format("/nonexistent/format"), std::runtime_error);
}

TEST(TracepointFormat, SymbolicEntriesWithSuffixesAndHex) {
  const auto f = parse_tracepoint_format(
      "field:int a;\toffset:8;\tsize:4;\tsigned:1;\n"
      "print fmt: \"%s\", __print_symbolic(REC->a, { 0x10, \"SIXTEEN\" }, { 2U, \"TWO\" }, { -1, \"NEG\" })\n");
  const ValueNames names(*f.symbolic_for("a"));
  EXPECT_EQ(names.name_or_number(16), "SIXTEEN");
  EXPECT_EQ(names.name_or_number(2), "TWO");
  EXPECT_EQ(names.name_or_number(-1), "NEG");
}

}  // namespace
}  // namespace skbtrail
