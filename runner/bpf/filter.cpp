#include "runner/bpf/filter.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/common/errors.h"
#include "runner/output/packet_format.h"

namespace skbtrail {

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf));
  return buf;
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  const std::string s(text);
  IpAddress address;
  if (::inet_pton(AF_INET, s.c_str(), address.bytes.data()) == 1) {
    address.family = AF_INET;
    return address;
  }
  if (::inet_pton(AF_INET6, s.c_str(), address.bytes.data()) == 1) {
    address.family = AF_INET6;
    return address;
  }
  return std::nullopt;
}

bool PacketFilter::empty() const {
  return !addr && !saddr && !daddr && !port && !sport && !dport && proto == L4Protocol::Any && !pid && !netns &&
         ifname.empty() && !tcp_flags;
}

PacketFilter widest_filter(bool device_fields) {
  PacketFilter f;
  f.saddr = parse_ip_address("fd00::1");
  f.daddr = parse_ip_address("fd00::2");
  f.sport = 40000;
  f.dport = 80;
  f.proto = L4Protocol::Tcp;
  f.pid = 1;
  f.netns = 1;
  if (device_fields) {
    f.ifname = "eth0";
    f.tcp_flags = 0x02;
  }
  return f;
}

IpAddress parse_address_option(std::string_view option, std::string_view text) {
  if (auto address = parse_ip_address(text)) return *address;
  throw UsageError(fmt::format("{} '{}': not an IPv4 or IPv6 address (examples: {} 10.0.0.1, {} fd00::1)", option,
                               text, option, option));
}

uint16_t parse_port_option(std::string_view option, std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value == 0 || value > 65535)
    throw UsageError(fmt::format("{} '{}': not a port number (use 1-65535, e.g. {} 443)", option, text, option));
  return static_cast<uint16_t>(value);
}

L4Protocol parse_proto_option(std::string_view text) {
  if (text == "any") return L4Protocol::Any;
  if (text == "tcp") return L4Protocol::Tcp;
  if (text == "udp") return L4Protocol::Udp;
  if (text == "icmp") return L4Protocol::Icmp;
  if (text == "icmp6" || text == "icmpv6") return L4Protocol::Icmp6;
  throw UsageError(fmt::format("--proto '{}': unknown protocol (use tcp, udp, icmp, icmp6 or any)", text));
}

uint32_t parse_u32_option(std::string_view option, std::string_view text, std::string_view example) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > 0xffffffffull)
    throw UsageError(fmt::format("{} '{}': not a number (e.g. {} {})", option, text, option, example));
  return static_cast<uint32_t>(value);
}

std::string_view proto_name(L4Protocol proto) {
  switch (proto) {
    case L4Protocol::Tcp: return "tcp";
    case L4Protocol::Udp: return "udp";
    case L4Protocol::Icmp: return "icmp";
    case L4Protocol::Icmp6: return "icmp6";
    case L4Protocol::Any: break;
  }
  return "any";
}

void validate(const PacketFilter& f) {
  int family = 0;
  std::string_view family_option;
  for (const auto& [option, address] : {std::pair{"--addr", &f.addr}, {"--saddr", &f.saddr}, {"--daddr", &f.daddr}}) {
    if (!*address) continue;
    if (family && family != (*address)->family)
      throw UsageError(fmt::format("{} and {}: one is IPv4, the other IPv6, so nothing can match (use one family)",
                                   family_option, option));
    family = (*address)->family;
    family_option = option;
  }
  const bool any_port = f.port || f.sport || f.dport;
  if (any_port && (f.proto == L4Protocol::Icmp || f.proto == L4Protocol::Icmp6))
    throw UsageError(fmt::format("--proto {} with a port filter: ICMP has no ports (drop the port option or use "
                                 "--proto tcp/udp)",
                                 proto_name(f.proto)));
  if (family == AF_INET && f.proto == L4Protocol::Icmp6)
    throw UsageError("--proto icmp6 with an IPv4 address: nothing can match (use --proto icmp)");
  if (family == AF_INET6 && f.proto == L4Protocol::Icmp)
    throw UsageError("--proto icmp with an IPv6 address: nothing can match (use --proto icmp6)");
}

namespace {

void add_address(std::vector<std::string>& flags, std::string_view name, const IpAddress& address) {
  // Words as the BPF side reads them from the packet (same machine, same
  // byte order), so the kernel compares without swapping.
  uint32_t words[4];
  std::memcpy(words, address.bytes.data(), sizeof(words));
  for (int i = 0; i < 4; ++i) flags.push_back(fmt::format("-DSKBTRAIL_F_{}{}=0x{:08x}U", name, i, words[i]));
}

void add_port(std::vector<std::string>& flags, std::string_view name, uint16_t port) {
  flags.push_back(fmt::format("-DSKBTRAIL_F_{}={}", name, htons(port)));
}

}  // namespace

uint8_t parse_tcp_flags_option(std::string_view text) {
  uint8_t mask = 0;
  for (const char c : text) {
    switch (c) {
      case 'F': mask |= 0x01; break;
      case 'S': mask |= 0x02; break;
      case 'R': mask |= 0x04; break;
      case 'P': mask |= 0x08; break;
      case 'A': mask |= 0x10; break;
      case 'U': mask |= 0x20; break;
      default:
        throw UsageError(fmt::format("--tcp-flags '{}': use letters from SAFRPU (S=SYN A=ACK F=FIN R=RST P=PSH "
                                     "U=URG), e.g. --tcp-flags SR",
                                     text));
    }
  }
  if (!mask) throw UsageError("--tcp-flags '': give at least one of SAFRPU");
  return mask;
}

std::string parse_ifname_option(std::string_view text) {
  if (text.empty() || text.size() > 15)
    throw UsageError(fmt::format("--ifname '{}': a device name is 1-15 characters (e.g. --ifname eth0)", text));
  return std::string(text);
}

std::vector<std::string> filter_cflags(const PacketFilter& f) {
  std::vector<std::string> flags;
  int family = 0;
  for (const auto* address : {&f.addr, &f.saddr, &f.daddr})
    if (*address) family = (*address)->family;
  if (f.proto == L4Protocol::Icmp) family = AF_INET;
  if (f.proto == L4Protocol::Icmp6) family = AF_INET6;
  if (family) flags.push_back(fmt::format("-DSKBTRAIL_F_L3=0x{:04x}", family == AF_INET ? 0x0800 : 0x86dd));
  switch (f.proto) {
    case L4Protocol::Tcp: flags.push_back("-DSKBTRAIL_F_L4=6"); break;
    case L4Protocol::Udp: flags.push_back("-DSKBTRAIL_F_L4=17"); break;
    case L4Protocol::Icmp: flags.push_back("-DSKBTRAIL_F_L4=1"); break;
    case L4Protocol::Icmp6: flags.push_back("-DSKBTRAIL_F_L4=58"); break;
    case L4Protocol::Any: break;
  }
  if (f.addr) add_address(flags, "ADDR", *f.addr);
  if (f.saddr) add_address(flags, "SADDR", *f.saddr);
  if (f.daddr) add_address(flags, "DADDR", *f.daddr);
  if (f.port) add_port(flags, "PORT", *f.port);
  if (f.sport) add_port(flags, "SPORT", *f.sport);
  if (f.dport) add_port(flags, "DPORT", *f.dport);
  for (const auto& late : late_constants(f))
    flags.push_back(fmt::format("-DSKBTRAIL_F_{}=0x{:08x}U", late.name == "pid" ? "PID" : "NETNS", late.placeholder));
  if (!f.ifname.empty()) {
    // Two words compared in BPF without a loop (skbtrail_ifname_matches).
    char name[16] = {};
    std::memcpy(name, f.ifname.data(), std::min<size_t>(f.ifname.size(), 15));
    uint64_t words[2];
    std::memcpy(words, name, sizeof(words));
    flags.push_back(fmt::format("-DSKBTRAIL_F_IFNAME0=0x{:016x}ULL", words[0]));
    flags.push_back(fmt::format("-DSKBTRAIL_F_IFNAME1=0x{:016x}ULL", words[1]));
  }
  if (f.tcp_flags) flags.push_back(fmt::format("-DSKBTRAIL_F_TCPFLAGS={}", f.tcp_flags));
  return flags;
}

std::vector<LateConstant> late_constants(const PacketFilter& f) {
  // Placeholders no program computes by itself, and above 2^31: a 64-bit
  // compare's immediate is sign-extended, so the compiler must hold them in
  // a 64-bit constant or a 32-bit compare, where any u32 value can be
  // written later (netns inodes are above 2^31 too).
  std::vector<LateConstant> out;
  if (f.pid) out.push_back({"pid", 0xf5ce7a01u, *f.pid});
  if (f.netns) out.push_back({"netns", 0xf5ce7a02u, *f.netns});
  return out;
}

std::string describe(const PacketFilter& f) {
  std::vector<std::string> parts;
  if (f.addr) parts.push_back("addr " + f.addr->to_string());
  if (f.saddr) parts.push_back("saddr " + f.saddr->to_string());
  if (f.daddr) parts.push_back("daddr " + f.daddr->to_string());
  if (f.port) parts.push_back(fmt::format("port {}", *f.port));
  if (f.sport) parts.push_back(fmt::format("sport {}", *f.sport));
  if (f.dport) parts.push_back(fmt::format("dport {}", *f.dport));
  if (f.proto != L4Protocol::Any) parts.push_back(fmt::format("proto {}", proto_name(f.proto)));
  if (f.pid) parts.push_back(fmt::format("pid {}", *f.pid));
  if (f.netns) parts.push_back(fmt::format("netns {}", *f.netns));
  if (!f.ifname.empty()) parts.push_back("ifname " + f.ifname);
  if (f.tcp_flags) parts.push_back("tcp flags any of " + tcp_flags_text(f.tcp_flags));
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace skbtrail
