// Packet and context filters, validated in user space and compiled into the
// BPF program as constants, so rejected packets cost the kernel a few
// compares and no map or perf-buffer work.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skbtrail {

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 in the first 4

  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

std::optional<IpAddress> parse_ip_address(std::string_view text);

enum class L4Protocol { Any, Tcp, Udp, Icmp, Icmp6 };

struct PacketFilter {
  std::optional<IpAddress> addr, saddr, daddr;
  std::optional<uint16_t> port, sport, dport;
  L4Protocol proto = L4Protocol::Any;
  std::optional<uint32_t> pid;
  std::optional<uint32_t> netns;
  // Only for commands that read the device and the flags (trace, rst).
  std::string ifname;     // --ifname
  uint8_t tcp_flags = 0;  // --tcp-flags SAFRPU: any of them

  bool empty() const;
};

// Option parsers: throw UsageError naming the option, the value and the fix.
IpAddress parse_address_option(std::string_view option, std::string_view text);
uint16_t parse_port_option(std::string_view option, std::string_view text);
L4Protocol parse_proto_option(std::string_view text);
// example: a valid value shown in the error ("--pid 1234").
uint32_t parse_u32_option(std::string_view option, std::string_view text, std::string_view example);
uint8_t parse_tcp_flags_option(std::string_view text);  // "SA" -> SYN|ACK
std::string parse_ifname_option(std::string_view text);

// A filter with every field set (IPv6 addresses, ports, protocol, pid,
// netns; device and TCP flags when `device_fields`): the most code a filter
// compiles to, for skbtrail check.
PacketFilter widest_filter(bool device_fields);

// Rejects combinations that can never match (an IPv4 source with an IPv6
// destination, a port with ICMP).
void validate(const PacketFilter& filter);

// -D flags for skbtrail_skb.bpf.h (SKBTRAIL_F_*).
std::vector<std::string> filter_cflags(const PacketFilter& filter);

// Filter values bound when the program is loaded, not when it is compiled:
// the program is compiled with a placeholder that the loader overwrites in
// the instructions, so one compiled program (a cache entry, a bundle)
// serves every value. The pid and the netns: the values that change from
// run to run (a netns inode exists only once its namespace does).
struct LateConstant {
  std::string name;          // "netns"
  uint32_t placeholder = 0;  // what the compiled instructions hold
  uint32_t value = 0;        // what the loader writes
};
std::vector<LateConstant> late_constants(const PacketFilter& filter);

// "dport 9, proto tcp" for the start-up banner; "none" when empty.
std::string describe(const PacketFilter& filter);

std::string_view proto_name(L4Protocol proto);

}  // namespace skbtrail
