// Text shared by every command's output: packet tuples, TCP flags, times,
// JSON strings. Allocation-light: callers append into a reused buffer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "programs/skbtrail_events.h"

namespace skbtrail {

// "TCP", "UDP", "ICMP", "ICMPv6", "IPv4", "IPv6" or "-" for non-IP.
std::string_view packet_proto_name(const skbtrail_packet& pkt);

// "127.0.0.1:40312 -> 127.0.0.1:9", "[fd00::1]:5353 -> [fd00::2]:53",
// "10.0.0.1 -> 10.0.0.2" for ICMP; "-" when there is no IP header.
std::string packet_tuple(const skbtrail_packet& pkt);
void append_packet_tuple(std::string& out, const skbtrail_packet& pkt);  // the same, no allocation
std::string packet_address(const skbtrail_packet& pkt, bool source);
uint16_t packet_port(const skbtrail_packet& pkt, bool source);  // host order

// TCP flags as "SYN", "ACK,RST", "FIN,PSH,ACK"; "" when none.
std::string tcp_flags_text(uint8_t flags);

// Maps bpf_ktime_get_ns() (CLOCK_MONOTONIC) to wall-clock time.
class MonotonicToWall {
 public:
  MonotonicToWall();  // samples both clocks now
  explicit MonotonicToWall(int64_t offset_ns) : offset_ns_(offset_ns) {}
  // "08:41:02.123456" (local time, µs)
  std::string time_of_day(uint64_t monotonic_ns) const;
  // The same appended to out; localtime_r runs once per second of events.
  void append_time_of_day(std::string& out, uint64_t monotonic_ns) const;
  // "2026-11-22T08:41:02.123456Z" for JSON
  std::string iso8601(uint64_t monotonic_ns) const;
  void append_iso8601(std::string& out, uint64_t monotonic_ns) const;  // quoted, cached per second

 private:
  int64_t offset_ns_;
  mutable int64_t cached_second_ = -1;
  mutable char cached_hms_[9] = {};  // "HH:MM:SS"
  mutable int64_t cached_utc_second_ = -1;
  mutable char cached_utc_[20] = {};  // "YYYY-MM-DDTHH:MM:SS"
};

void append_uint(std::string& out, uint64_t value);  // decimal, no allocation

// s, then spaces up to width (left-aligned), or spaces first (right-aligned).
void append_padded(std::string& out, std::string_view s, size_t width);
void append_padded_right(std::string& out, std::string_view s, size_t width);

// ,"proto":..,"saddr":..,"daddr":..,"sport":..,"dport":..,"tcp_flags":..
// (ICMP: icmp_type/code/id/seq): the packet's fields as JSON members.
void append_json_packet(std::string& out, const skbtrail_packet& pkt);

// {saddr} {daddr} {sport} {dport} for diagnosis rule texts.
std::map<std::string, std::string> packet_placeholders(const skbtrail_packet& pkt);

// Appends s as a JSON string literal (with quotes) to out.
void append_json_string(std::string& out, std::string_view s);

// The NUL-terminated prefix of a fixed char array from the kernel.
std::string_view fixed_string(const char* data, size_t capacity);

}  // namespace skbtrail
