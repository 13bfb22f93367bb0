#include "runner/tools/drop/drop_record.h"

#include <iterator>

#include <fmt/format.h>

#include "runner/output/packet_format.h"
#include "runner/output/text.h"

namespace skbtrail {

namespace {
// The text columns, as the header names them.
constexpr size_t kTupleWidth = 47;
}  // namespace

std::string drop_header() {
  return fmt::format("{:<15} {:<16} {:>7} {:>10} {:<8} {:<6} {:<47} {:<11} {:<22} {}\n", "TIME", "COMM", "PID",
                     "NETNS", "IFACE", "PROTO", "SOURCE -> DESTINATION", "FLAGS", "REASON", "LOCATION");
}

void write_text(Output& out, const DropRecord& r) {
  const skbtrail_drop_event& ev = *r.event;
  std::string& text = out.text();
  const std::string_view ifname = fixed_string(ev.ifname);
  // Padded piece by piece into the one buffer: fmt's padding counts code
  // points, which costs more than the rest of the line (bench/capacity.sh).
  out.clock().append_time_of_day(text, ev.ts_ns);
  text += ' ';
  append_padded(text, fixed_string(ev.comm), 16);
  text += ' ';
  append_padded_right(text, fmt::format_int(ev.pid).c_str(), 7);
  text += ' ';
  append_padded_right(text, fmt::format_int(ev.netns).c_str(), 10);
  text += ' ';
  append_padded(text, ifname.empty() ? "-" : ifname, 8);
  text += ' ';
  append_padded(text, packet_proto_name(ev.pkt), 6);
  text += ' ';
  const size_t tuple_start = text.size();
  append_packet_tuple(text, ev.pkt);
  if (const size_t n = text.size() - tuple_start; n < kTupleWidth) text.append(kTupleWidth - n, ' ');
  text += ' ';
  const std::string flags = ev.pkt.l4_proto == 6 ? tcp_flags_text(ev.pkt.tcp_flags) : std::string();
  append_padded(text, flags.empty() ? "-" : flags, 11);
  text += ' ';
  if (!r.reason.empty()) {
    append_padded(text, r.reason, 22);
  } else if (!r.pseudo_reason.empty()) {
    // "~": read from the location, not told by the kernel.
    text += '~';
    append_padded(text, r.pseudo_reason, 21);
  } else {
    append_padded(text, "-", 22);
  }
  text += ' ';
  text += r.location;
  text += '\n';
  if (r.blame) append_blame_text(text, *r.blame);
  if (r.diagnosis) {
    fmt::format_to(std::back_inserter(text), "    diag [{}] {}\n", r.diagnosis->level, r.diagnosis->cause);
    if (!r.diagnosis->advice.empty()) fmt::format_to(std::back_inserter(text), "    advice {}\n", r.diagnosis->advice);
  }
  append_stack_text(text, r.stack);
}

void append_blame_text(std::string& text, const netfilter::Blame& b) {
  auto to = std::back_inserter(text);
  fmt::format_to(to, "    rule {}", blame_line(b));
  if (b.certainty != netfilter::Certainty::Exact && b.certainty != netfilter::Certainty::NotFound && !b.note.empty())
    fmt::format_to(to, " ({})", b.note);
  text += '\n';
  if (b.certainty == netfilter::Certainty::Ambiguous || b.certainty == netfilter::Certainty::NoCounters)
    for (const auto& rule : b.rules) fmt::format_to(to, "         {}\n", rule_line(rule));
}

void write_blame_json(JsonLine& line, const netfilter::Blame& b) {
  line.begin_object("rule").str("certainty", certainty_name(b.certainty));
  if (!b.note.empty()) line.str("note", b.note);
  line.begin_array("rules");
  for (const auto& r : b.rules) {
    line.begin_item_object().str("backend", netfilter::backend_name(r.backend)).str("family", r.family);
    line.str("table", r.table).str("chain", r.chain).num("handle", r.handle).num("position", r.position);
    line.str("verdict", r.verdict).str("text", r.text).end_object();
  }
  line.end_array().begin_array("chains");
  for (const auto& c : b.chains) {
    line.begin_item_object().str("backend", netfilter::backend_name(c.backend)).str("family", c.family);
    line.str("table", c.table).str("chain", c.name).str("hook", c.hook).str("policy", c.policy).end_object();
  }
  line.end_array().end_object();
}

void write_json(JsonLine& line, const DropRecord& r) {
  const skbtrail_drop_event& ev = *r.event;
  line.time("time", ev.ts_ns).num("ts_ns", ev.ts_ns).str("comm", fixed_string(ev.comm));
  line.num("pid", ev.pid).num("tid", ev.tid).num("netns", ev.netns).num("ifindex", ev.ifindex);
  line.str("ifname", fixed_string(ev.ifname));
  write_packet_json(line, ev.pkt);
  if (r.has_reason) line.str("reason", r.reason).num("reason_code", ev.reason);
  else if (!r.pseudo_reason.empty()) line.str("pseudo_reason", r.pseudo_reason);
  line.str("location", r.location).hex("skb", ev.skbaddr);
  if (r.blame) write_blame_json(line, *r.blame);
  if (r.diagnosis) {
    line.begin_object("diag").str("rule", r.diagnosis->rule).str("level", r.diagnosis->level);
    line.str("cause", r.diagnosis->cause).str("advice", r.diagnosis->advice).end_object();
  }
  write_stack_json(line, r.stack);
}

void write_text(Output& out, const DropSummaryRecord& r) {
  auto text = std::back_inserter(out.text());
  fmt::format_to(text, "\n--- {} drops{} ---\n", r.drops, r.lost ? fmt::format(", {} lost", r.lost) : std::string());
  if (!r.causes.empty()) {
    fmt::format_to(text, "analysis result:\n");
    for (const auto& c : r.causes) {
      fmt::format_to(text, "{:>8}  [{}] {}: {}\n", c.count, c.level, c.rule, c.example_cause);
      if (!c.advice.empty()) fmt::format_to(text, "          advice: {}\n", c.advice);
    }
  }
  if (r.by_reason_location.empty()) return;
  fmt::format_to(text, "{:>8}  {:<26} {}\n", "COUNT", "REASON", "LOCATION");
  for (const auto& row : r.by_reason_location)
    fmt::format_to(text, "{:>8}  {:<26} {}\n", row.count, row.reason.empty() ? "-" : row.reason, row.location);
}

void write_json(JsonLine& line, const DropSummaryRecord& r) {
  line.num("drops", r.drops).num("lost", r.lost).begin_array("by_reason_location");
  for (const auto& row : r.by_reason_location)
    line.begin_item_object().str("reason", row.reason).str("location", row.location).num("count", row.count).end_object();
  line.end_array();
}

}  // namespace skbtrail
