// What `skbtrail trace` prints: one record per hop of a packet, mytracer's
// columns in text, one object per hop in JSON.
#pragma once

#include <string>
#include <string_view>

#include "programs/skbtrail_events.h"
#include "runner/output/address_namer.h"
#include "runner/output/output.h"

namespace skbtrail {

enum class TraceClock { TimeOfDay, Date, BootSeconds };  // default, -T, -t

struct TraceRecord {
  const skbtrail_trace_event* event = nullptr;
  std::string_view hop;          // the function or tracepoint event; "?" for an unknown id
  std::string_view layer;        // "" for an unknown id
  std::string_view text;         // the hop with its verdict, drop reason and location
  std::string_view location;     // drops: where
  std::string_view explanation;  // --explain: "[layer] what the function does"; "" without
  bool starts_group = false;     // --keep: the first event of another skb
  TraceClock clock = TraceClock::TimeOfDay;
  StackView stack;
};
inline std::string_view json_type(const TraceRecord&) { return "trace"; }
void write_text(Output& out, const TraceRecord& record);
void write_json(JsonLine& line, const TraceRecord& record);

// trace --keep at exit: its table of followed skbs, so a full one is not
// silent. The oldest are forgotten where maps are LRU (4.10+, RHEL 7):
// evicted = inserted - deleted - following; before, a full table refuses.
struct KeepTableRecord {
  uint64_t capacity = 0;   // SKBTRAIL_KEEP_ENTRIES
  uint64_t following = 0;  // entries at exit: skbs followed whose free was not seen yet
  uint64_t inserted = 0, deleted = 0, evicted = 0, refused = 0;
};
inline std::string_view json_type(const KeepTableRecord&) { return "keep_table"; }
void write_text(Output& out, const KeepTableRecord& record);  // a line only when something was forgotten or refused
void write_json(JsonLine& line, const KeepTableRecord& record);

// "T_SYN:1.2.3.4:5->6.7.8.9:80", "U:...", "I_request:a->b id= seq=", "-".
std::string trace_packet_info(const skbtrail_packet& pkt);

}  // namespace skbtrail
