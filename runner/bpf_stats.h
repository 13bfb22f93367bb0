// --bpf-stats: what our BPF programs cost the kernel, measured by the kernel
// (run_time_ns / run_cnt per program, BPF_ENABLE_STATS, 5.8+). Stats stay
// enabled only while this process holds the fd, so nothing global is left
// switched on after a run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace skbtrail {

struct BpfProgramStats {
  std::string name;  // the kernel's (BCC passes the function name, cut to 15 characters)
  uint64_t run_count = 0;
  uint64_t run_time_ns = 0;
};

class BpfStatsScope {
 public:
  // enabled=false: does nothing. Otherwise throws EnvironmentError when the
  // kernel cannot count (before 5.8, or no permission).
  explicit BpfStatsScope(bool enabled);
  ~BpfStatsScope();
  BpfStatsScope(const BpfStatsScope&) = delete;
  BpfStatsScope& operator=(const BpfStatsScope&) = delete;

  // Every BPF program this process holds, with its counters.
  std::vector<BpfProgramStats> read() const;
  // "bpf-stats: NAME runs N, X ns/run" per program, on stderr (or JSON lines on stdout).
  void report(const char* command, bool json) const;

 private:
  int fd_ = -1;
};

}  // namespace skbtrail
