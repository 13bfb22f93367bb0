#include "runner/bpf/filter.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>

#include "runner/common/errors.h"

namespace skbtrail {
namespace {

bool has(const std::vector<std::string>& flags, const std::string& flag) {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

TEST(Filter, AddressesParseInBothFamilies) {
  const auto v4 = parse_ip_address("127.0.0.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family, AF_INET);
  EXPECT_EQ(v4->to_string(), "127.0.0.1");
  const auto v6 = parse_ip_address("fd00::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, AF_INET6);
  EXPECT_EQ(v6->to_string(), "fd00::1");
  EXPECT_FALSE(parse_ip_address("1.2.3"));
  EXPECT_FALSE(parse_ip_address("fd00:::1"));
  EXPECT_FALSE(parse_ip_address(""));
}

TEST(Filter, BadValuesNameTheOptionAndTheFix) {
  try {
    parse_address_option("--addr", "1.2.3");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--addr '1.2.3'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("example"), std::string::npos);
  }
  EXPECT_THROW(parse_port_option("--port", "70000"), UsageError);
  EXPECT_THROW(parse_port_option("--port", "0"), UsageError);
  EXPECT_THROW(parse_port_option("--port", "80x"), UsageError);
  EXPECT_THROW(parse_port_option("--port", ""), UsageError);
  EXPECT_EQ(parse_port_option("--port", "65535"), 65535);
  EXPECT_THROW(parse_proto_option("sctp"), UsageError);
  EXPECT_EQ(parse_proto_option("icmpv6"), L4Protocol::Icmp6);
  EXPECT_THROW(parse_u32_option("--netns", "4294967296", "4026531840"), UsageError);
  EXPECT_EQ(parse_u32_option("--netns", "4026531840", "4026531840"), 4026531840u);
}

TEST(Filter, PortsBecomeNetworkOrderConstants) {
  PacketFilter f;
  f.dport = 9;      // 0x0009 -> bytes 00 09 -> little-endian u16 0x0900
  f.sport = 0x1234;
  const auto flags = filter_cflags(f);
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_DPORT=2304")) << ::testing::PrintToString(flags);
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_SPORT=13330"));
  EXPECT_FALSE(has(flags, "-DSKBTRAIL_F_L3=0x0800"));
}

TEST(Filter, Ipv4AddressBecomesWordsAndImpliesFamily) {
  PacketFilter f;
  f.daddr = parse_address_option("--daddr", "127.0.0.1");
  f.proto = L4Protocol::Tcp;
  const auto flags = filter_cflags(f);
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_DADDR0=0x0100007fU")) << ::testing::PrintToString(flags);
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_DADDR1=0x00000000U"));
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_L3=0x0800"));
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_L4=6"));
}

TEST(Filter, Ipv6AddressUsesAllFourWords) {
  PacketFilter f;
  f.addr = parse_address_option("--addr", "fd00::1");
  const auto flags = filter_cflags(f);
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_ADDR0=0x000000fdU")) << ::testing::PrintToString(flags);
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_ADDR3=0x01000000U"));
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_L3=0x86dd"));
}

TEST(Filter, IcmpProtocolsPinTheFamily) {
  PacketFilter f;
  f.proto = L4Protocol::Icmp6;
  const auto flags = filter_cflags(f);
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_L3=0x86dd"));
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_L4=58"));
}

TEST(Filter, ContextFilters) {
  PacketFilter f;
  f.pid = 42;
  f.netns = 4026531840u;
  // Bound at load time: the program holds placeholders, the loader the values.
  const auto flags = filter_cflags(f);
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_PID=0xf5ce7a01U"));
  EXPECT_TRUE(has(flags, "-DSKBTRAIL_F_NETNS=0xf5ce7a02U"));
  const auto late = late_constants(f);
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[0].name, "pid");
  EXPECT_EQ(late[0].value, 42u);
  EXPECT_EQ(late[1].placeholder, 0xf5ce7a02u);
  EXPECT_EQ(late[1].value, 4026531840u);
  // Another netns is the same program.
  PacketFilter other = f;
  other.netns = 4026532000u;
  EXPECT_EQ(filter_cflags(other), flags);
}

TEST(Filter, EmptyFilterCompilesToNothing) {
  PacketFilter f;
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(filter_cflags(f).empty());
  EXPECT_EQ(describe(f), "none");
}

TEST(Filter, ImpossibleCombinationsAreRejected) {
  PacketFilter mixed;
  mixed.saddr = parse_address_option("--saddr", "10.0.0.1");
  mixed.daddr = parse_address_option("--daddr", "fd00::2");
  EXPECT_THROW(validate(mixed), UsageError);

  PacketFilter icmp_port;
  icmp_port.proto = L4Protocol::Icmp;
  icmp_port.dport = 80;
  EXPECT_THROW(validate(icmp_port), UsageError);

  PacketFilter v4_icmp6;
  v4_icmp6.addr = parse_address_option("--addr", "10.0.0.1");
  v4_icmp6.proto = L4Protocol::Icmp6;
  EXPECT_THROW(validate(v4_icmp6), UsageError);

  PacketFilter fine;
  fine.saddr = parse_address_option("--saddr", "10.0.0.1");
  fine.daddr = parse_address_option("--daddr", "10.0.0.2");
  fine.dport = 443;
  fine.proto = L4Protocol::Tcp;
  EXPECT_NO_THROW(validate(fine));
  EXPECT_EQ(describe(fine), "saddr 10.0.0.1, daddr 10.0.0.2, dport 443, proto tcp");
}

}  // namespace
}  // namespace skbtrail
