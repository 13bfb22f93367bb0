// skbtrail rst: every RST this host sends or receives, classified into a
// cause with its evidence and advice (rules in scripts/rst.rules).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "programs/skbtrail_events.h"
#include "runner/filter.h"
#include "runner/packet_format.h"
#include "runner/probes.h"
#include "runner/rules.h"
#include "runner/session.h"
#include "runner/tracepoint_format.h"

namespace skbtrail {

class AddressNamer;

struct RstOptions {
  RunOptions run;
  PacketFilter filter;
  std::vector<std::string> rule_files;  // --rules FILE
  bool stack = false;                   // print the whole stack, not only the key frame
  bool summary = true;
};

// The RST sources in preference order, each with its tracepoint fallback.
// want_conntrack adds nf_ct_l4proto_log_invalid, the evidence for RSTs that
// answer conntrack-INVALID segments.
std::vector<ProbeSpec> rst_probes(bool want_nf, bool want_conntrack);
const char* rst_source_name(uint8_t source);

std::vector<std::string> rst_program_cflags(const RstOptions& options, const KernelInfo& kernel,
                                            const TracepointFormat* send_reset_format, bool tp_send, bool tp_receive,
                                            bool want_conntrack);

bool decode_rst_event(std::span<const uint8_t> sample, skbtrail_rst_event& event);

std::string tcp_state_name(uint8_t state);  // "TCP_LISTEN"; the values are kernel ABI (ss uses them)

class RstReporter {
 public:
  RstReporter(const AddressNamer& names, const RuleSet& rules, ValueNames reasons, MonotonicToWall clock,
              const RstOptions& options);
  // Classifies and appends one event; stack = function addresses, innermost first.
  void append_event(std::string& out, const skbtrail_rst_event& ev, std::span<const uint64_t> stack);
  void append_summary(std::string& out) const;
  uint64_t events() const { return events_; }

  // The facts rules see, for tests.
  RuleFacts facts(const skbtrail_rst_event& ev, std::span<const uint64_t> stack) const;

 private:
  const AddressNamer& names_;
  const RuleSet& rules_;
  ValueNames reasons_;
  MonotonicToWall clock_;
  const RstOptions& options_;
  uint64_t events_ = 0;
  std::map<std::string, std::pair<const Rule*, uint64_t>> by_rule_;
};

int run_rst(const RstOptions& options);

}  // namespace skbtrail
