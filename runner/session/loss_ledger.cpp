#include "runner/session/loss_ledger.h"

#include <iterator>
#include <set>

#include <fmt/format.h>

#include "runner/output/output.h"

namespace skbtrail {

uint64_t LossLedger::seen(int cpu, uint64_t seq) {
  if (seq == 0 || cpu < 0) return 0;
  if (static_cast<size_t>(cpu) >= cpus_.size()) cpus_.resize(static_cast<size_t>(cpu) + 1);
  CpuState& state = cpus_[static_cast<size_t>(cpu)];
  ++state.seen;
  // A CPU's numbers reach its ring in order; an older number than the last
  // cannot be a gap (it would be a second program's: not counted as loss).
  uint64_t gap = seq > state.last_seq + 1 ? seq - state.last_seq - 1 : 0;
  if (seq > state.last_seq) state.last_seq = seq;
  state.gaps += gap;
  return gap;
}

void LossLedger::close(Counts counts) {
  if (!counts.empty()) counts_ = std::move(counts);  // unreadable: the gaps are all there is
}

uint64_t LossLedger::tried_on(int cpu) const {
  uint64_t tried = 0;
  if (!counts_) return 0;
  for (const auto& by_cpu : *counts_)
    if (cpu >= 0 && static_cast<size_t>(cpu) < by_cpu.size()) tried += by_cpu[cpu].tried;
  return tried;
}

bool LossLedger::after_close(int cpu, uint64_t seq) const { return counts_ && seq > tried_on(cpu); }

std::vector<std::pair<int, uint64_t>> LossLedger::tail_losses() const {
  std::vector<std::pair<int, uint64_t>> tails;
  if (!counts_) return tails;
  const size_t cpus = counts_->empty() ? 0 : counts_->front().size();
  for (size_t cpu = 0; cpu < cpus; ++cpu) {
    const uint64_t tried = tried_on(static_cast<int>(cpu));
    const CpuState* state = state_of(static_cast<int>(cpu));
    const uint64_t last = state ? state->last_seq : 0;
    if (tried > last) tails.emplace_back(static_cast<int>(cpu), tried - last);
  }
  return tails;
}

LossSummary LossLedger::summary(const std::vector<std::string>& slot_names) const {
  LossSummary s;
  std::set<int> cpus;
  for (size_t cpu = 0; cpu < cpus_.size(); ++cpu)
    if (cpus_[cpu].seen) cpus.insert(static_cast<int>(cpu));
  for (const auto& [cpu, count] : perf_lost_) cpus.insert(cpu);
  std::map<int, uint64_t> failed_on;
  if (counts_) {
    for (size_t slot = 0; slot < counts_->size(); ++slot) {
      LossSummary::Slot row{slot < slot_names.size() ? slot_names[slot] : fmt::format("slot {}", slot), 0, 0};
      for (size_t cpu = 0; cpu < (*counts_)[slot].size(); ++cpu) {
        const auto& c = (*counts_)[slot][cpu];
        row.tried += c.tried;
        row.failed += c.failed;
        failed_on[static_cast<int>(cpu)] += c.failed;
        if (c.tried) cpus.insert(static_cast<int>(cpu));
      }
      if (row.tried) s.slots.push_back(std::move(row));
    }
  }
  for (const int cpu : cpus) {
    LossSummary::Cpu row;
    row.cpu = cpu;
    const CpuState* state = state_of(cpu);
    const auto perf = perf_lost_.find(cpu);
    row.seen = state ? state->seen : 0;
    row.perf_lost = perf == perf_lost_.end() ? 0 : perf->second;
    row.failed = failed_on[cpu];
    // Without the counters (a run cut short) the gaps are all that is known.
    row.tried = counts_ ? tried_on(cpu) : (state ? state->last_seq : 0);
    row.lost = row.tried > row.seen ? row.tried - row.seen : 0;
    s.tried += row.tried;
    s.seen += row.seen;
    s.lost += row.lost;
    s.failed += row.failed;
    s.perf_lost += row.perf_lost;
    s.cpus.push_back(row);
  }
  return s;
}

void write_text(Output& out, const LossSummary& s) {
  if (s.lost == 0 && s.perf_lost == 0) return;
  auto text = std::back_inserter(out.text());
  fmt::format_to(text, "--- {} of {} events lost (ring full):", s.lost, s.tried);
  for (const auto& cpu : s.cpus)
    if (cpu.lost) fmt::format_to(text, " cpu {} {},", cpu.cpu, cpu.lost);
  fmt::format_to(text, " by probe:");
  for (const auto& slot : s.slots)
    if (slot.failed) fmt::format_to(text, " {} {} of {},", slot.name, slot.failed, slot.tried);
  fmt::format_to(text, " raise --perf-pages or narrow the filter ---\n");
  if (!s.exact())
    fmt::format_to(text, "--- loss accounting does not add up: {} seen + {} lost of {} tried, {} refused ---\n", s.seen,
                   s.lost, s.tried, s.failed);
}

void write_json(JsonLine& line, const LossSummary& s) {
  line.num("tried", s.tried).num("seen", s.seen).num("lost", s.lost).num("failed", s.failed);
  line.num("perf_lost", s.perf_lost).boolean("exact", s.exact()).begin_array("by_cpu");
  for (const auto& c : s.cpus)
    line.begin_item_object()
        .num("cpu", c.cpu)
        .num("tried", c.tried)
        .num("seen", c.seen)
        .num("lost", c.lost)
        .num("failed", c.failed)
        .num("perf_lost", c.perf_lost)
        .end_object();
  line.end_array().begin_array("by_probe");
  for (const auto& slot : s.slots)
    line.begin_item_object().str("probe", slot.name).num("tried", slot.tried).num("failed", slot.failed).end_object();
  line.end_array();
}

}  // namespace skbtrail
