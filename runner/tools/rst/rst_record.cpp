#include "runner/tools/rst/rst_record.h"

#include <iterator>

#include <fmt/format.h>

#include "runner/output/packet_format.h"
#include "runner/output/text.h"

namespace skbtrail {

std::string tcp_state_name(uint8_t state) {
  static constexpr const char* kNames[] = {"",           "TCP_ESTABLISHED", "TCP_SYN_SENT", "TCP_SYN_RECV",
                                           "TCP_FIN_WAIT1", "TCP_FIN_WAIT2", "TCP_TIME_WAIT", "TCP_CLOSE",
                                           "TCP_CLOSE_WAIT", "TCP_LAST_ACK", "TCP_LISTEN",  "TCP_CLOSING",
                                           "TCP_NEW_SYN_RECV"};
  if (state == 0) return "-";
  return state < 13 ? kNames[state] : fmt::format("state{}", state);
}

void write_text(Output& out, const RstRecord& r) {
  const skbtrail_rst_event& ev = *r.event;
  auto text = std::back_inserter(out.text());
  const std::string_view ifname = fixed_string(ev.ifname);
  fmt::format_to(text, "{} RST {} {}  netns {}  dev {}  {}/{}  {}\n", out.clock().time_of_day(ev.ts_ns),
                 r.received ? "received" : "sent    ", packet_tuple(ev.pkt), ev.netns, ifname.empty() ? "-" : ifname,
                 fixed_string(ev.comm), ev.pid, r.state);
  fmt::format_to(text, "  cause    [{}] {}\n  evidence {}\n", r.level, r.cause, r.evidence);
  if (!r.advice.empty()) fmt::format_to(text, "  advice   {}\n", r.advice);
  if (r.stack_in_text) append_stack_text(out.text(), r.stack);
}

void write_json(JsonLine& line, const RstRecord& r) {
  const skbtrail_rst_event& ev = *r.event;
  line.time("time", ev.ts_ns).str("direction", r.received ? "received" : "sent").str("source", r.source);
  write_packet_json(line, ev.pkt);
  line.str("ifname", fixed_string(ev.ifname));
  if (ev.segment_flags) line.str("answering", tcp_flags_text(ev.segment_flags));
  line.num("netns", ev.netns).num("pid", ev.pid).str("comm", fixed_string(ev.comm)).str("state", r.state);
  line.boolean("socket", ev.skaddr != 0);
  if (ev.has_reason) line.str("reason", r.reason);
  line.str("caller", r.caller);
  if (r.conntrack) {
    line.begin_object("conntrack").str("state", "INVALID").str("message", r.conntrack->message);
    line.str("original", r.conntrack->original).str("reply", r.conntrack->reply).str("nat", r.conntrack->nat);
    line.end_object();
  }
  line.str("rule", r.rule).str("level", r.level).str("cause", r.cause).str("evidence", r.evidence);
  line.str("advice", r.advice);
  write_stack_json(line, r.stack);
}

void write_text(Output& out, const RstSummaryRecord& r) {
  auto text = std::back_inserter(out.text());
  fmt::format_to(text, "\n--- analysis result: {} resets ---\n", r.resets);
  for (const auto& row : r.by_cause) fmt::format_to(text, "{:>8}  [{}] {}\n", row.count, row.level, row.rule);
}

void write_json(JsonLine& line, const RstSummaryRecord& r) {
  line.num("resets", r.resets).begin_array("by_cause");
  for (const auto& row : r.by_cause) line.begin_item_object().str("rule", row.rule).num("count", row.count).end_object();
  line.end_array();
}

}  // namespace skbtrail
