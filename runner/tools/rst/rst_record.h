// What `skbtrail rst` prints: one record per RST, classified, and the
// analysis at exit; each with a text and a JSON writer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "programs/skbtrail_events.h"
#include "runner/output/address_namer.h"
#include "runner/output/output.h"

namespace skbtrail {

// Conntrack's view of the segment a RST answered, when it called it INVALID.
struct RstConntrack {
  std::string message, original, reply, nat;
};

struct RstRecord {
  const skbtrail_rst_event* event = nullptr;
  bool received = false;       // tcp_reset / tcp_receive_reset: a RST came in
  std::string_view source;     // "tcp_v4_send_reset", "tp:tcp_send_reset", ...
  std::string_view state;      // "TCP_CLOSE", "-"
  std::string_view reason;     // the RST reason's name, when the event has one
  std::string_view caller;     // the frame that decided ("" when unknown)
  const RstConntrack* conntrack = nullptr;
  std::string_view rule, level, cause, evidence, advice;
  StackView stack;
  bool stack_in_text = false;  // --stack: the whole stack in text (JSON always has it)
};
inline std::string_view json_type(const RstRecord&) { return "rst"; }
void write_text(Output& out, const RstRecord& record);
void write_json(JsonLine& line, const RstRecord& record);

struct RstSummaryRecord {
  uint64_t resets = 0;
  struct Row {
    std::string rule;
    std::string_view level;
    uint64_t count = 0;
  };
  std::vector<Row> by_cause;  // most frequent first
};
inline std::string_view json_type(const RstSummaryRecord&) { return "summary"; }
void write_text(Output& out, const RstSummaryRecord& record);
void write_json(JsonLine& line, const RstSummaryRecord& record);

// "TCP_LISTEN"; the values are kernel ABI (ss uses them). "-" for 0.
std::string tcp_state_name(uint8_t state);

}  // namespace skbtrail
