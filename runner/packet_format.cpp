#include "runner/packet_format.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <ctime>
#include <iterator>

#include <fmt/format.h>

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

std::string packet_address(const skbtrail_packet& pkt, bool source) {
  const void* raw = source ? static_cast<const void*>(pkt.saddr) : static_cast<const void*>(pkt.daddr);
  char buf[INET6_ADDRSTRLEN] = {};
  if (pkt.l3_proto == kEthIp) return ::inet_ntop(AF_INET, raw, buf, sizeof(buf));
  if (pkt.l3_proto == kEthIpv6) return ::inet_ntop(AF_INET6, raw, buf, sizeof(buf));
  return {};
}

uint16_t packet_port(const skbtrail_packet& pkt, bool source) { return ntohs(source ? pkt.sport : pkt.dport); }

std::string packet_tuple(const skbtrail_packet& pkt) {
  if (pkt.l3_proto != kEthIp && pkt.l3_proto != kEthIpv6) return "-";
  const bool v6 = pkt.l3_proto == kEthIpv6;
  const bool ports = pkt.l4_proto == 6 || pkt.l4_proto == 17;
  auto endpoint = [&](bool source) {
    const std::string address = packet_address(pkt, source);
    if (!ports) return address;
    return v6 ? fmt::format("[{}]:{}", address, packet_port(pkt, source))
              : fmt::format("{}:{}", address, packet_port(pkt, source));
  };
  return fmt::format("{} -> {}", endpoint(true), endpoint(false));
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

MonotonicToWall::MonotonicToWall() {
  timespec mono{}, real{};
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  ::clock_gettime(CLOCK_REALTIME, &real);
  offset_ns_ = (int64_t{real.tv_sec} - mono.tv_sec) * 1'000'000'000 + (real.tv_nsec - mono.tv_nsec);
}

std::string MonotonicToWall::time_of_day(uint64_t monotonic_ns) const {
  const int64_t wall = static_cast<int64_t>(monotonic_ns) + offset_ns_;
  const time_t seconds = wall / 1'000'000'000;
  tm local{};
  ::localtime_r(&seconds, &local);
  return fmt::format("{:02}:{:02}:{:02}.{:06}", local.tm_hour, local.tm_min, local.tm_sec,
                     (wall % 1'000'000'000) / 1000);
}

std::string MonotonicToWall::iso8601(uint64_t monotonic_ns) const {
  const int64_t wall = static_cast<int64_t>(monotonic_ns) + offset_ns_;
  const time_t seconds = wall / 1'000'000'000;
  tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, (wall % 1'000'000'000) / 1000);
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  out += '"';
}

void append_json_packet(std::string& out, const skbtrail_packet& pkt) {
  out += ",\"proto\":";
  append_json_string(out, packet_proto_name(pkt));
  if (pkt.l3_proto == kEthIp || pkt.l3_proto == kEthIpv6) {
    out += ",\"saddr\":";
    append_json_string(out, packet_address(pkt, true));
    out += ",\"daddr\":";
    append_json_string(out, packet_address(pkt, false));
  }
  if (pkt.l4_proto == 6 || pkt.l4_proto == 17)
    fmt::format_to(std::back_inserter(out), ",\"sport\":{},\"dport\":{}", packet_port(pkt, true),
                   packet_port(pkt, false));
  if (pkt.l4_proto == 6) {
    out += ",\"tcp_flags\":";
    append_json_string(out, tcp_flags_text(pkt.tcp_flags));
  }
  if (pkt.l4_proto == 1 || pkt.l4_proto == 58)
    fmt::format_to(std::back_inserter(out), ",\"icmp_type\":{},\"icmp_code\":{},\"icmp_id\":{},\"icmp_seq\":{}",
                   pkt.icmp_type, pkt.icmp_code, ntohs(pkt.icmp_id), ntohs(pkt.icmp_seq));
}

std::map<std::string, std::string> packet_placeholders(const skbtrail_packet& pkt) {
  return {{"saddr", packet_address(pkt, true)},
          {"daddr", packet_address(pkt, false)},
          {"sport", std::to_string(packet_port(pkt, true))},
          {"dport", std::to_string(packet_port(pkt, false))}};
}

std::string_view fixed_string(const char* data, size_t capacity) {
  return {data, ::strnlen(data, capacity)};
}

}  // namespace skbtrail
