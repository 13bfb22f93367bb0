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

void append_uint(std::string& out, uint64_t value) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}

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

void append_padded(std::string& out, std::string_view s, size_t width) {
  out += s;
  if (s.size() < width) out.append(width - s.size(), ' ');
}

void append_padded_right(std::string& out, std::string_view s, size_t width) {
  if (s.size() < width) out.append(width - s.size(), ' ');
  out += s;
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

namespace {
// ".uuuuuu": the microseconds of a wall-clock time in ns, zero padded.
void append_micros(std::string& out, int64_t wall_ns) {
  char micros[7] = {'.'};
  int64_t us = (wall_ns % 1'000'000'000) / 1000;
  for (int i = 6; i >= 1; --i, us /= 10) micros[i] = static_cast<char>('0' + us % 10);
  out.append(micros, 7);
}
}  // namespace

void MonotonicToWall::append_time_of_day(std::string& out, uint64_t monotonic_ns) const {
  const int64_t wall = static_cast<int64_t>(monotonic_ns) + offset_ns_;
  const int64_t second = wall / 1'000'000'000;
  if (second != cached_second_) {
    const time_t seconds = second;
    tm local{};
    ::localtime_r(&seconds, &local);
    fmt::format_to_n(cached_hms_, sizeof(cached_hms_), "{:02}:{:02}:{:02}", local.tm_hour, local.tm_min, local.tm_sec);
    cached_second_ = second;
  }
  out.append(cached_hms_, 8);
  append_micros(out, wall);
}

void MonotonicToWall::append_iso8601(std::string& out, uint64_t monotonic_ns) const {
  const int64_t wall = static_cast<int64_t>(monotonic_ns) + offset_ns_;
  const int64_t second = wall / 1'000'000'000;
  if (second != cached_utc_second_) {
    const time_t seconds = second;
    tm utc{};
    ::gmtime_r(&seconds, &utc);
    fmt::format_to_n(cached_utc_, sizeof(cached_utc_), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    cached_utc_second_ = second;
  }
  out += '"';
  out.append(cached_utc_, 19);
  append_micros(out, wall);
  out += "Z\"";
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
    // Address text needs no JSON escaping.
    out += ",\"saddr\":\"";
    append_address(out, pkt, true);
    out += "\",\"daddr\":\"";
    append_address(out, pkt, false);
    out += '"';
  }
  if (pkt.l4_proto == 6 || pkt.l4_proto == 17) {
    out += ",\"sport\":";
    append_uint(out, packet_port(pkt, true));
    out += ",\"dport\":";
    append_uint(out, packet_port(pkt, false));
  }
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
