// skbtrail rst's half of a session: each RST decoded, classified by the
// rules into a cause with its evidence and advice, and counted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "programs/skbtrail_events.h"
#include "runner/data/rules.h"
#include "runner/kernel/tracepoint_format.h"
#include "runner/output/pcapng.h"
#include "runner/session/session.h"
#include "runner/tools/blame_queue.h"
#include "runner/tools/rst/rst_record.h"

namespace skbtrail {

const char* rst_source_name(uint8_t source);  // "tcp_v4_send_reset"; "?" when unknown

class RstReporter : public EventReporter<skbtrail_rst_event> {
 public:
  // stack_in_text: --stack; summary: the analysis at exit.
  RstReporter(const AddressNamer& names, const RuleSet& rules, ValueNames reasons, bool stack_in_text,
              bool summary = true);
  // Classifies and writes one event; stack = function addresses, innermost first.
  void report(const skbtrail_rst_event& ev, std::span<const uint64_t> stack, Output& out) override;
  void end(Output& out) override;
  // Rule blame: a netfilter REJECT waits for a counter read and names its rule.
  void blame_with(std::unique_ptr<BlameQueue> queue) { blame_ = std::move(queue); }
  // --pcap: the segment each RST answers goes to the writer, with its cause.
  void capture_to(std::shared_ptr<PcapngWriter> writer, uint32_t snaplen) {
    pcap_ = std::move(writer);
    snaplen_ = snaplen;
  }
  void started(SessionControl& control) override {
    if (blame_) blame_->started(control);
  }
  uint64_t events() const { return events_; }

  // The facts rules see, for tests.
  RuleFacts facts(const skbtrail_rst_event& ev, std::span<const uint64_t> stack,
                  const netfilter::Blame* blame = nullptr) const;

 private:
  void emit(const skbtrail_rst_event& ev, std::span<const uint64_t> stack, const netfilter::Blame* blame,
            std::span<const uint8_t> capture, Output& out);

  // The stack with the caller the kprobe recorded at entry, where the
  // unwinder left it out.
  std::vector<uint64_t> stack_with_caller(const skbtrail_rst_event& ev, std::span<const uint64_t> stack) const;

  const AddressNamer& names_;
  const RuleSet& rules_;
  ValueNames reasons_;
  bool stack_in_text_;
  bool summary_;
  uint64_t events_ = 0;
  std::map<std::string, std::pair<const Rule*, uint64_t>> by_rule_;
  std::unique_ptr<BlameQueue> blame_;
  std::shared_ptr<PcapngWriter> pcap_;
  uint32_t snaplen_ = 0;
};

}  // namespace skbtrail
