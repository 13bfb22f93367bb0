// skbtrail drop: every skb the kernel drops, with where and why.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <span>
#include <string>
#include <utility>
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

struct DropOptions {
  RunOptions run;
  PacketFilter filter;
  bool stack = false;
  bool summary = true;
  bool diag = false;        // --diag: explain each drop from scripts/drop.rules
  bool diag_quiet = false;  // --diag-quiet: print only warn/error drops
  std::vector<std::string> rule_files;  // --rules FILE
  bool nf_context = false;  // set by the runner: nf_hook_slow kprobes attached
  bool kfree_kprobe = false;  // set by the runner: no BPF on tracepoints (< 4.7), kprobe kfree_skb
  std::string record;         // --record FILE: keep the raw samples
  std::string replay;         // --replay FILE: print a recording, no kernel involved
  uint32_t replay_repeat = 1; // --replay-repeat N: feed it N times (benchmarks)
};

// with_kprobe_fallback: kfree_skb as a kprobe where tracepoints cannot run BPF.
std::vector<ProbeSpec> drop_probes(bool with_kprobe_fallback = false);

// -D flags for drop.bpf.c on a kernel whose skb:kfree_skb has `format`.
std::vector<std::string> drop_program_cflags(const DropOptions& options, const TracepointFormat& format);

// Decodes one perf sample; false when it is too short to be a drop event.
bool decode_drop_event(std::span<const uint8_t> sample, skbtrail_drop_event& event);

// Turns drop events into text or JSON lines and keeps the exit summary.
class DropReporter {
 public:
  DropReporter(const AddressNamer& names, ValueNames reasons, bool has_reason, MonotonicToWall clock, bool json);

  std::string header() const;  // column titles (text mode), empty in JSON mode
  // Appends one event (and its stack frames, if any) to out.
  void append_event(std::string& out, const skbtrail_drop_event& event, std::span<const uint64_t> stack);
  void append_lost(std::string& out, int cpu, uint64_t count);
  void append_summary(std::string& out) const;
  uint64_t events() const { return events_; }
  // --diag: classify every event with these rules (nullptr: no diagnosis).
  void diagnose_with(const RuleSet* rules, bool quiet) {
    rules_ = rules;
    quiet_ = quiet;
  }

 private:
  const std::string& reason_name(uint32_t reason) const;  // cached; "" without reasons
  // The rule that explains ev, its expanded cause and advice.
  struct Diagnosis {
    const Rule* rule = nullptr;
    std::string cause, advice;
  };
  Diagnosis diagnose(const skbtrail_drop_event& ev, const std::string& reason, const std::string& location,
                     std::span<const uint64_t> stack) const;

  const AddressNamer& names_;
  ValueNames reasons_;
  bool has_reason_;
  MonotonicToWall clock_;
  bool json_;
  uint64_t events_ = 0;
  uint64_t lost_ = 0;
  // Counted by (reason, location address): names are resolved once, at the summary.
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> by_reason_location_;
  mutable std::unordered_map<uint32_t, std::string> reason_names_;
  const RuleSet* rules_ = nullptr;
  bool quiet_ = false;
  struct CauseCount {
    const Rule* rule;
    std::string example_cause, advice;
    uint64_t count = 0;
  };
  std::map<std::string, CauseCount> by_cause_;
};

// Runs until count/duration/signal; returns the exit code.
int run_drop(const DropOptions& options);

}  // namespace skbtrail
