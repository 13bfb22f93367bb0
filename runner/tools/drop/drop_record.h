// What `skbtrail drop` prints: one record per drop and a summary at exit,
// each with a text and a JSON writer (docs/json.md lists the JSON keys).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "programs/skbtrail_events.h"
#include "runner/netfilter/blame.h"
#include "runner/output/address_namer.h"
#include "runner/output/output.h"

namespace skbtrail {

// --diag: the rule that explains a drop.
struct DropDiagnosis {
  std::string_view rule, level;
  std::string cause, advice;
};

struct DropRecord {
  const skbtrail_drop_event* event = nullptr;  // time, process, netns, device, packet, skb
  bool has_reason = false;                     // the kernel reports drop reasons (5.17+)
  std::string_view reason;                     // its name, "" without
  std::string_view pseudo_reason;              // without reasons: what the location stands for, or ""
  std::string_view location;                   // "tcp_v4_rcv+0x99"
  const DropDiagnosis* diagnosis = nullptr;    // --diag, when a rule matched
  StackView stack;
  const netfilter::Blame* blame = nullptr;     // a netfilter drop: the rule that made it
};
inline std::string_view json_type(const DropRecord&) { return "drop"; }
void write_text(Output& out, const DropRecord& record);
void write_json(JsonLine& line, const DropRecord& record);

// A blame as text lines ("    rule   inet filter input handle 7: ... (exact)")
// and as the "rule" JSON object; shared with rst.
void append_blame_text(std::string& text, const netfilter::Blame& blame);
void write_blame_json(JsonLine& line, const netfilter::Blame& blame);

// The column titles of the text form.
std::string drop_header();

struct DropSummaryRecord {
  uint64_t drops = 0;
  uint64_t lost = 0;
  struct Row {
    std::string reason, location;
    uint64_t count = 0;
  };
  std::vector<Row> by_reason_location;  // most frequent first
  struct Cause {
    uint64_t count = 0;
    std::string_view level, rule;
    std::string example_cause, advice;
  };
  std::vector<Cause> causes;  // --diag: abnormal first, then by count
};
inline std::string_view json_type(const DropSummaryRecord&) { return "summary"; }
void write_text(Output& out, const DropSummaryRecord& record);
void write_json(JsonLine& line, const DropSummaryRecord& record);

}  // namespace skbtrail
