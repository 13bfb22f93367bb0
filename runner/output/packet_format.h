// Packet text every command's output shares: tuples, TCP flags, protocol
// names, and the packet's JSON members.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "programs/skbtrail_events.h"

namespace skbtrail {

class JsonLine;

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

// "proto", "saddr", "daddr", "sport", "dport", "tcp_flags" (ICMP:
// icmp_type/code/id/seq): the packet's fields as JSON members.
void write_packet_json(JsonLine& line, const skbtrail_packet& pkt);

// {saddr} {daddr} {sport} {dport} for diagnosis rule texts.
std::map<std::string, std::string> packet_placeholders(const skbtrail_packet& pkt);

}  // namespace skbtrail
