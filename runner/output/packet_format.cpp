#include "runner/output/packet_format.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "runner/output/json_line.h"
#include "runner/output/text.h"

namespace skbtrail {

namespace {
constexpr uint16_t kEthIp = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
}  // namespace

std::string_view packet_proto_name(const skbtrail_packet& pkt) {
  switch (pkt.l4_proto) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    case 58: return "ICMPv6";
    default: break;
  }
  if (pkt.l3_proto == kEthIp) return "IPv4";
  if (pkt.l3_proto == kEthIpv6) return "IPv6";
  return "-";
}

namespace {

// inet_ntop goes through sprintf for IPv4; this is the hot case.
void append_ipv4(std::string& out, const void* raw) {
  uint8_t b[4];
  std::memcpy(b, raw, 4);
  for (int i = 0; i < 4; ++i) {
    if (i) out += '.';
    append_uint(out, b[i]);
  }
}

void append_address(std::string& out, const skbtrail_packet& pkt, bool source) {
  const void* raw = source ? static_cast<const void*>(pkt.saddr) : static_cast<const void*>(pkt.daddr);
  if (pkt.l3_proto == kEthIp) {
    append_ipv4(out, raw);
  } else if (pkt.l3_proto == kEthIpv6) {
    char buf[INET6_ADDRSTRLEN] = {};
    out += ::inet_ntop(AF_INET6, raw, buf, sizeof(buf));
  }
}

}  // namespace

std::string packet_address(const skbtrail_packet& pkt, bool source) {
  const void* raw = source ? static_cast<const void*>(pkt.saddr) : static_cast<const void*>(pkt.daddr);
  char buf[INET6_ADDRSTRLEN] = {};
  if (pkt.l3_proto == kEthIp) return ::inet_ntop(AF_INET, raw, buf, sizeof(buf));
  if (pkt.l3_proto == kEthIpv6) return ::inet_ntop(AF_INET6, raw, buf, sizeof(buf));
  return {};
}

uint16_t packet_port(const skbtrail_packet& pkt, bool source) { return ntohs(source ? pkt.sport : pkt.dport); }

void append_packet_tuple(std::string& out, const skbtrail_packet& pkt) {
  if (pkt.l3_proto != kEthIp && pkt.l3_proto != kEthIpv6) {
    out += '-';
    return;
  }
  const bool v6 = pkt.l3_proto == kEthIpv6;
  const bool ports = pkt.l4_proto == 6 || pkt.l4_proto == 17;
  auto endpoint = [&](bool source) {
    if (ports && v6) out += '[';
    append_address(out, pkt, source);
    if (!ports) return;
    out += v6 ? "]:" : ":";
    append_uint(out, packet_port(pkt, source));
  };
  endpoint(true);
  out += " -> ";
  endpoint(false);
}

std::string packet_tuple(const skbtrail_packet& pkt) {
  std::string out;
  append_packet_tuple(out, pkt);
  return out;
}

std::string tcp_flags_text(uint8_t flags) {
  static constexpr std::pair<uint8_t, const char*> kNames[] = {
      {0x02, "SYN"}, {0x01, "FIN"}, {0x08, "PSH"}, {0x10, "ACK"}, {0x04, "RST"}, {0x20, "URG"}, {0x40, "ECE"}, {0x80, "CWR"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (!(flags & bit)) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

void write_packet_json(JsonLine& line, const skbtrail_packet& pkt) {
  line.str("proto", packet_proto_name(pkt));
  if (pkt.l3_proto == kEthIp || pkt.l3_proto == kEthIpv6) {
    line.unescaped("saddr", [&](std::string& out) { append_address(out, pkt, true); });
    line.unescaped("daddr", [&](std::string& out) { append_address(out, pkt, false); });
  }
  if (pkt.l4_proto == 6 || pkt.l4_proto == 17) {
    line.num("sport", uint64_t{packet_port(pkt, true)});
    line.num("dport", uint64_t{packet_port(pkt, false)});
  }
  if (pkt.l4_proto == 6) line.str("tcp_flags", tcp_flags_text(pkt.tcp_flags));
  if (pkt.l4_proto == 1 || pkt.l4_proto == 58) {
    line.num("icmp_type", uint64_t{pkt.icmp_type}).num("icmp_code", uint64_t{pkt.icmp_code});
    line.num("icmp_id", uint64_t{ntohs(pkt.icmp_id)}).num("icmp_seq", uint64_t{ntohs(pkt.icmp_seq)});
  }
}

std::map<std::string, std::string> packet_placeholders(const skbtrail_packet& pkt) {
  return {{"saddr", packet_address(pkt, true)},
          {"daddr", packet_address(pkt, false)},
          {"sport", std::to_string(packet_port(pkt, true))},
          {"dport", std::to_string(packet_port(pkt, false))}};
}

}  // namespace skbtrail
