// --bpf-stats: what our BPF programs cost the kernel, measured by the kernel
// (run_time_ns / run_cnt per program, BPF_ENABLE_STATS, 5.8+). Stats stay
// enabled only while this process holds the fd, so nothing global is left
// switched on after a run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runner/output/output.h"

namespace skbtrail {

struct BpfProgramStats {
  std::string name;  // the kernel's (BCC passes the function name, cut to 15 characters)
  uint64_t run_count = 0;
  uint64_t run_time_ns = 0;
  double ns_per_run() const {
    return run_count ? static_cast<double>(run_time_ns) / static_cast<double>(run_count) : 0.0;
  }
};

// One program's counters as a record (JSON lines; the text form goes to
// stderr, beside the banner, so it never mixes with events).
inline std::string_view json_type(const BpfProgramStats&) { return "bpf_stats"; }
void write_json(JsonLine& line, const BpfProgramStats& stats);
void write_text(Output& out, const BpfProgramStats& stats);
// "skbtrail CMD: bpf-stats: NAME runs N, X ns/run" on stderr.
void print_bpf_stats(const std::string& command, const BpfProgramStats& stats);

class BpfStatsScope {
 public:
  // enabled=false: does nothing. Otherwise throws EnvironmentError when the
  // kernel cannot count (before 5.8, or no permission).
  explicit BpfStatsScope(bool enabled);
  ~BpfStatsScope();
  BpfStatsScope(const BpfStatsScope&) = delete;
  BpfStatsScope& operator=(const BpfStatsScope&) = delete;

  bool enabled() const { return fd_ >= 0; }
  // Every BPF program this process holds, with its counters.
  std::vector<BpfProgramStats> read() const;

 private:
  int fd_ = -1;
};

}  // namespace skbtrail
