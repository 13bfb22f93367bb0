#include "runner/tools/trace/trace_record.h"

#include <arpa/inet.h>

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "runner/output/packet_format.h"
#include "runner/output/text.h"

namespace skbtrail {

std::string trace_packet_info(const skbtrail_packet& pkt) {
  const bool v6 = pkt.l3_proto == 0x86dd;
  auto endpoint = [&](bool source) {
    const std::string address = packet_address(pkt, source);
    return v6 ? fmt::format("[{}]:{}", address, packet_port(pkt, source))
              : fmt::format("{}:{}", address, packet_port(pkt, source));
  };
  switch (pkt.l4_proto) {
    case 6: {
      std::string flags = tcp_flags_text(pkt.tcp_flags);
      return fmt::format("T_{}:{}->{}", flags.empty() ? "NONE" : flags, endpoint(true), endpoint(false));
    }
    case 17: return fmt::format("U:{}->{}", endpoint(true), endpoint(false));
    case 1:
    case 58: {
      const bool request = pkt.icmp_type == (pkt.l4_proto == 1 ? 8 : 128);
      const bool reply = pkt.icmp_type == (pkt.l4_proto == 1 ? 0 : 129);
      std::string what = request ? "request" : reply ? "reply" : fmt::format("type {} code {}", pkt.icmp_type, pkt.icmp_code);
      std::string ids = (request || reply) ? fmt::format(" id={} seq={}", ntohs(pkt.icmp_id), ntohs(pkt.icmp_seq)) : "";
      return fmt::format("I_{}:{}->{}{}", what, packet_address(pkt, true), packet_address(pkt, false), ids);
    }
    default: break;
  }
  if (pkt.l3_proto == 0x0800 || pkt.l3_proto == 0x86dd)
    return fmt::format("{}:{}->{} proto {}", v6 ? "IPv6" : "IPv4", packet_address(pkt, true), packet_address(pkt, false),
                       pkt.l4_proto);
  return "-";
}

namespace {
std::string dmac_text(const skbtrail_trace_event& ev) {
  return fmt::format("{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", ev.dmac[0], ev.dmac[1], ev.dmac[2], ev.dmac[3], ev.dmac[4],
                     ev.dmac[5]);
}
}  // namespace

void write_text(Output& out, const TraceRecord& r) {
  const skbtrail_trace_event& ev = *r.event;
  std::string& text = out.text();
  if (r.starts_group) fmt::format_to(std::back_inserter(text), "--- skb {:x} ---\n", ev.skbaddr);
  // --keep: the program counted this skb's events that the ring refused.
  if (ev.skb_lost)
    fmt::format_to(std::back_inserter(text), "--- skb {:x}: path incomplete: {} events lost before this hop ---\n",
                   ev.skbaddr, ev.skb_lost);
  text += '[';
  switch (r.clock) {
    case TraceClock::BootSeconds: append_boot_seconds(text, ev.ts_ns); break;
    case TraceClock::Date: {  // "2026-11-22 08:41:02.123456", as mytracer's -T
      const size_t start = text.size();
      out.clock().append_iso8601(text, ev.ts_ns);
      text.pop_back();  // the Z
      std::replace(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(), 'T', ' ');
      break;
    }
    case TraceClock::TimeOfDay: out.clock().append_time_of_day(text, ev.ts_ns); break;
  }
  const std::string_view ifname = fixed_string(ev.ifname);
  fmt::format_to(std::back_inserter(text), "][{}] {:<12} {} {} {:x}.{}:{}", ev.netns, ifname.empty() ? "nil" : ifname,
                 dmac_text(ev), trace_packet_info(ev.pkt), ev.skbaddr, ev.pkt_type, r.text);
  if (!r.explanation.empty()) fmt::format_to(std::back_inserter(text), "  # {}", r.explanation);
  text += '\n';
  append_stack_text(text, r.stack);
}

void write_text(Output& out, const KeepTableRecord& r) {
  auto text = std::back_inserter(out.text());
  if (r.evicted)
    fmt::format_to(text,
                   "--- --keep: {} followed skbs were forgotten before their free was seen (more than {} at once: the "
                   "oldest went first) ---\n",
                   r.evicted, r.capacity);
  if (r.refused)
    fmt::format_to(text, "--- --keep: {} skbs were not followed (its table of {} was full) ---\n", r.refused,
                   r.capacity);
}

void write_json(JsonLine& line, const KeepTableRecord& r) {
  line.num("capacity", r.capacity).num("following", r.following).num("inserted", r.inserted);
  line.num("deleted", r.deleted).num("evicted", r.evicted).num("refused", r.refused);
}

void write_json(JsonLine& line, const TraceRecord& r) {
  const skbtrail_trace_event& ev = *r.event;
  line.time("time", ev.ts_ns).num("ts_ns", ev.ts_ns).num("netns", ev.netns).str("ifname", fixed_string(ev.ifname));
  line.str("dmac", dmac_text(ev)).hex("skb", ev.skbaddr).num("pkt_type", uint64_t{ev.pkt_type}).str("hop", r.hop);
  if (!r.layer.empty()) line.str("layer", r.layer);
  line.str("packet", trace_packet_info(ev.pkt));
  write_packet_json(line, ev.pkt);
  if (ev.kind == SKBTRAIL_TRACE_NF || ev.kind == SKBTRAIL_TRACE_IPT || ev.kind == SKBTRAIL_TRACE_DROP)
    line.str("detail", r.text);
  if (ev.kind == SKBTRAIL_TRACE_DROP) line.str("location", r.location);
  if (ev.skb_lost) line.num("skb_lost", ev.skb_lost);
  write_stack_json(line, r.stack);
}

}  // namespace skbtrail
