// Exact loss accounting for one run (programs/skbtrail_output.bpf.h).
//
// The programs number each CPU's events as they try to send them and count
// tries and refusals per output slot. Reading the rings in order, a jump in
// a CPU's numbers is loss at that point of the stream; at exit, after the
// last drain, the counters give what was tried and the tail that never
// arrived. Then seen + lost = tried holds exactly, per CPU and in all, and
// the program's own refusal count (failed) and perf's lost-sample records
// are the two witnesses of the same loss.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "programs/skbtrail_events.h"

namespace skbtrail {

class Output;
class JsonLine;

struct LossSummary {
  struct Cpu {
    int cpu = 0;
    uint64_t tried = 0, seen = 0, lost = 0, failed = 0, perf_lost = 0;
  };
  struct Slot {
    std::string name;
    uint64_t tried = 0, failed = 0;
  };
  uint64_t tried = 0, seen = 0, lost = 0, failed = 0, perf_lost = 0;
  std::vector<Cpu> cpus;    // the CPUs that tried to send anything
  std::vector<Slot> slots;  // the slots that tried to send anything
  // seen + lost == tried and the program's refusals == lost. perf's own
  // count may trail: it reports a loss only once the ring has room again.
  bool exact() const { return seen + lost == tried && failed == lost; }
};
inline std::string_view json_type(const LossSummary&) { return "loss"; }
void write_text(Output& out, const LossSummary& summary);  // a line only when something was lost
void write_json(JsonLine& line, const LossSummary& summary);

class LossLedger {
 public:
  // counts[slot][cpu], as the per-CPU array holds them.
  using Counts = std::vector<std::vector<skbtrail_output_count>>;

  // A sample numbered `seq` arrived on cpu's ring. Returns how many of that
  // CPU's events were lost right before it (0 for none, or for seq 0: a
  // program that does not number its events).
  uint64_t seen(int cpu, uint64_t seq);
  // perf's PERF_RECORD_LOST for cpu's ring.
  void perf_lost(int cpu, uint64_t count) { perf_lost_[cpu] += count; }

  // The counters, read once the rings were drained: from here on a sample
  // numbered past what they say was sent after the end (ignore it), and
  // what was tried but never arrived is the tail loss.
  void close(Counts counts);
  bool after_close(int cpu, uint64_t seq) const;
  // (cpu, events lost after its last event seen), for CPUs that lost some.
  std::vector<std::pair<int, uint64_t>> tail_losses() const;
  LossSummary summary(const std::vector<std::string>& slot_names) const;

 private:
  struct CpuState {
    uint64_t last_seq = 0;
    uint64_t seen = 0;
    uint64_t gaps = 0;  // lost between events seen
  };
  // By CPU number: one vector index per sample, no tree walk on the hot path.
  std::vector<CpuState> cpus_;
  const CpuState* state_of(int cpu) const {
    return cpu >= 0 && static_cast<size_t>(cpu) < cpus_.size() ? &cpus_[static_cast<size_t>(cpu)] : nullptr;
  }
  std::map<int, uint64_t> perf_lost_;
  std::optional<Counts> counts_;
  uint64_t tried_on(int cpu) const;
};

}  // namespace skbtrail
