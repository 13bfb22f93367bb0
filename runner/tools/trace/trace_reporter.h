// skbtrail trace's half of a session: each hop event named after the plan's
// hop list, with its netfilter verdict or drop, and grouped per skb (--keep).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "programs/skbtrail_events.h"
#include "runner/data/rules.h"
#include "runner/kernel/tracepoint_format.h"
#include "runner/output/pcapng.h"
#include "runner/session/session.h"
#include "runner/tools/trace/hop_plan.h"
#include "runner/tools/trace/trace_record.h"

namespace skbtrail {

struct TraceOptions;

class TraceReporter : public EventReporter<skbtrail_trace_event> {
 public:
  // drop_rules: their pseudo-reasons name drops on kernels without reasons.
  TraceReporter(const TracePlan& plan, const AddressNamer& names, ValueNames drop_reasons, const TraceOptions& options,
                const RuleSet* drop_rules = nullptr);
  void report(const skbtrail_trace_event& ev, std::span<const uint64_t> stack, Output& out) override;
  uint64_t events() const { return events_; }
  void started(SessionControl& control) override { table_fd_ = control.table_fd; }
  void end(Output&) override;
  // --pcap: the packet at each hop that carries its bytes, with the hop.
  void capture_to(std::shared_ptr<PcapngWriter> writer, uint32_t snaplen) {
    pcap_ = std::move(writer);
    snaplen_ = snaplen;
  }

 private:
  std::string hop_text(const skbtrail_trace_event& ev, const std::string& name) const;

  const TracePlan& plan_;
  const AddressNamer& names_;
  ValueNames drop_reasons_;
  const TraceOptions& options_;
  const RuleSet* drop_rules_ = nullptr;
  uint64_t events_ = 0;
  uint64_t last_skb_ = 0;
  std::shared_ptr<PcapngWriter> pcap_;
  uint32_t snaplen_ = 0;
  std::function<int(std::string_view)> table_fd_;
};

}  // namespace skbtrail
