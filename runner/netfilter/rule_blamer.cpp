#include "runner/netfilter/rule_blamer.h"

#include <time.h>

namespace skbtrail::netfilter {

namespace {
// Enough to blame drops that reach user space late (a full perf ring's
// worth of events behind); older snapshots are dropped.
constexpr size_t kSnapshotsKept = 8;
}  // namespace

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

RuleBlamer::RuleBlamer(std::chrono::milliseconds min_interval)
    : min_interval_ns_(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(min_interval).count())) {}

bool RuleBlamer::read(uint64_t netns, std::string& why) {
  NetnsEntry entry(netns);
  if (!entry.ok()) {
    why = entry.why();
    return false;
  }
  Snapshot snapshot;
  snapshot.started_ns = monotonic_ns();
  snapshot.rules = reader_.read(netns);
  snapshot.ended_ns = monotonic_ns();
  ++reads_;
  auto& history = snapshots_[netns];
  history.push_back(std::move(snapshot));
  while (history.size() > kSnapshotsKept) history.pop_front();
  return true;
}

uint64_t RuleBlamer::next_read_at(uint64_t netns) const {
  const auto it = snapshots_.find(netns);
  if (it == snapshots_.end() || it->second.empty()) return 0;
  return it->second.back().started_ns + min_interval_ns_;
}

bool RuleBlamer::read_after(uint64_t netns, uint64_t ts_ns) const {
  const auto it = snapshots_.find(netns);
  return it != snapshots_.end() && !it->second.empty() && it->second.back().started_ns > ts_ns;
}

std::optional<Blame> RuleBlamer::blame(uint64_t netns, uint64_t ts_ns, const BlameQuery& query) {
  const auto it = snapshots_.find(netns);
  if (it == snapshots_.end()) return std::nullopt;
  const Snapshot* before = nullptr;
  Snapshot* after = nullptr;
  for (auto& s : it->second) {
    // Before: a read that ended before the drop (its counters cannot hold
    // it); after: the first read that started after it (they must).
    if (s.ended_ns < ts_ns) before = &s;
    if (!after && s.started_ns > ts_ns) after = &s;
  }
  if (!after) return std::nullopt;
  static const Ruleset kNothing;
  Blame b = netfilter::blame(before ? before->rules : kNothing, after->rules, query);
  if (!before) b.note += b.note.empty() ? "no read before this drop" : "; no read before this drop";
  if (!after->rules.errors.empty() && b.certainty == Certainty::NotFound) b.note += "; " + after->rules.errors.front();
  // Texts are kept in the snapshot: a storm of drops by one rule asks for
  // its text once.
  std::optional<NetnsEntry> entry;
  for (auto& rule : b.rules) {
    auto* kept = const_cast<NetfilterRule*>(after->rules.find(rule));
    if (kept && kept->text.empty()) {
      if (!entry) entry.emplace(netns);
      if (entry->ok()) reader_.fill_text(*kept, netns);
    }
    if (kept) rule.text = kept->text;
  }
  return b;
}

}  // namespace skbtrail::netfilter
