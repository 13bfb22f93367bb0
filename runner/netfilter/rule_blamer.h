// Rule blame over a run: timed snapshots of each namespace's counters, and
// for a drop at time T the snapshot read before T against the first read
// after it. Reads are rate-limited by the caller's schedule (ReadSchedule),
// so a drop storm costs one ruleset read per interval, not one per drop.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "runner/netfilter/blame.h"
#include "runner/netfilter/readers.h"

namespace skbtrail::netfilter {

// Monotonic nanoseconds, the clock BPF's bpf_ktime_get_ns() reads.
uint64_t monotonic_ns();

class RuleBlamer {
 public:
  explicit RuleBlamer(std::chrono::milliseconds min_interval = std::chrono::milliseconds(100));

  bool available() const { return reader_.available(); }
  std::vector<std::string> describe() const { return reader_.describe(); }

  // Reads netns's rulesets now (a snapshot that later drops compare with).
  // False, with why, when the namespace cannot be entered.
  bool read(uint64_t netns, std::string& why);
  // When the next read of netns may happen (monotonic ns): reads are at
  // least min_interval apart.
  uint64_t next_read_at(uint64_t netns) const;
  // Whether a read started after `ts_ns`, so a drop then can be blamed.
  bool read_after(uint64_t netns, uint64_t ts_ns) const;

  // The rules that explain a drop at ts_ns in netns; nullopt until
  // read_after(netns, ts_ns). Blamed rules get their text.
  std::optional<Blame> blame(uint64_t netns, uint64_t ts_ns, const BlameQuery& query);

  uint64_t reads() const { return reads_; }

 private:
  struct Snapshot {
    uint64_t started_ns = 0, ended_ns = 0;
    Ruleset rules;
  };
  RulesetReader reader_;
  uint64_t min_interval_ns_;
  std::map<uint64_t, std::deque<Snapshot>> snapshots_;  // by netns, oldest first
  uint64_t reads_ = 0;
};

}  // namespace skbtrail::netfilter
