// skbtrail drop's half of a session: each drop event decoded, named,
// diagnosed (--diag) and counted for the summary.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

#include "programs/skbtrail_events.h"
#include "runner/data/rules.h"
#include "runner/netfilter/blame.h"
#include "runner/output/pcapng.h"
#include "runner/kernel/tracepoint_format.h"
#include "runner/session/session.h"
#include "runner/tools/blame_queue.h"
#include "runner/tools/drop/drop_record.h"

namespace skbtrail {

class DropReporter : public EventReporter<skbtrail_drop_event> {
 public:
  // rules: the drop rules; their pseudo-reasons name drops on kernels
  // without reasons (and --diag matches them, see diagnose_with).
  DropReporter(const AddressNamer& names, ValueNames reasons, bool has_reason, const RuleSet* rules,
               bool summary = true);
  // --diag: classify every event with these rules (nullptr: no diagnosis);
  // quiet prints only warn/error drops (all are counted).
  void diagnose_with(const RuleSet* rules, bool quiet) {
    rules_ = rules;
    quiet_ = quiet;
  }

  // --pcap: every drop's bytes go to the writer, with what happened to it.
  void capture_to(std::shared_ptr<PcapngWriter> writer, uint32_t snaplen) {
    pcap_ = std::move(writer);
    snaplen_ = snaplen;
  }

  // Rule blame: netfilter drops wait for a counter read and name the rule.
  void blame_with(std::unique_ptr<BlameQueue> queue) { blame_ = std::move(queue); }

  void begin(Output& out) override;
  void started(SessionControl& control) override {
    if (blame_) blame_->started(control);
  }
  void report(const skbtrail_drop_event& ev, std::span<const uint64_t> stack, Output& out) override;
  void lost(size_t table, int cpu, uint64_t count, Output& out) override;
  void end(Output& out) override;

  uint64_t events() const { return events_; }
  DropSummaryRecord summary() const;

 private:
  const std::string& reason_name(uint32_t reason) const;  // cached; "" without reasons
  // Without reasons: what the drop location stands for ("" when nothing);
  // cached by address.
  const std::string& pseudo_reason(uint64_t location, const std::string& described) const;
  // The rule that explains ev; nullopt-like (rule empty) when none matches.
  bool diagnose(const skbtrail_drop_event& ev, const std::string& reason, const std::string& location,
                std::span<const uint64_t> stack, const netfilter::Blame* blame, DropDiagnosis& out,
                const Rule*& rule) const;
  // Diagnoses, counts the cause and writes one drop.
  void emit(const skbtrail_drop_event& ev, std::span<const uint64_t> stack, const netfilter::Blame* blame,
            std::span<const uint8_t> capture, Output& out);
  void write_pcap(const skbtrail_drop_event& ev, const std::string& reason, const std::string& pseudo,
                  const std::string& location, const netfilter::Blame* blame, std::span<const uint8_t> capture,
                  const Output& out);

  const AddressNamer& names_;
  ValueNames reasons_;
  bool has_reason_;
  bool summary_;
  uint64_t events_ = 0;
  uint64_t lost_ = 0;
  // Counted by (reason, location address): names are resolved once, at the summary.
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> by_reason_location_;
  mutable std::unordered_map<uint32_t, std::string> reason_names_;
  mutable std::unordered_map<uint64_t, std::string> pseudo_reasons_;
  const RuleSet* pseudo_rules_ = nullptr;
  const RuleSet* rules_ = nullptr;
  bool quiet_ = false;
  std::unique_ptr<BlameQueue> blame_;
  std::shared_ptr<PcapngWriter> pcap_;
  uint32_t snaplen_ = 0;
  struct CauseCount {
    const Rule* rule;
    std::string example_cause, advice;
    uint64_t count = 0;
  };
  std::map<std::string, CauseCount> by_cause_;
};

}  // namespace skbtrail
