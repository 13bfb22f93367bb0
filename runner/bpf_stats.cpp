#include "runner/bpf_stats.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "runner/errors.h"

namespace skbtrail {

BpfStatsScope::BpfStatsScope(bool enabled) {
  if (!enabled) return;
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.enable_stats.type = BPF_STATS_RUN_TIME;
  fd_ = static_cast<int>(::syscall(__NR_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr)));
  if (fd_ < 0)
    throw EnvironmentError(fmt::format("--bpf-stats: the kernel refused BPF_ENABLE_STATS ({}); it needs 5.8+ and root "
                                       "(or sysctl kernel.bpf_stats_enabled=1 and bpftool prog show)",
                                       std::strerror(errno)));
}

BpfStatsScope::~BpfStatsScope() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<BpfProgramStats> BpfStatsScope::read() const {
  std::vector<BpfProgramStats> stats;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code link_ec;
    const auto target = std::filesystem::read_symlink(entry.path(), link_ec);
    if (link_ec || target.string() != "anon_inode:bpf-prog") continue;
    const int fd = std::stoi(entry.path().filename().string());
    struct bpf_prog_info info;
    std::memset(&info, 0, sizeof(info));
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    stats.push_back({info.name, info.run_cnt, info.run_time_ns});
  }
  return stats;
}

void BpfStatsScope::report(const char* command, bool json) const {
  if (fd_ < 0) return;
  for (const auto& s : read()) {
    const double per_run = s.run_count ? static_cast<double>(s.run_time_ns) / static_cast<double>(s.run_count) : 0.0;
    if (json)
      std::printf("{\"type\":\"bpf_stats\",\"program\":\"%s\",\"run_cnt\":%llu,\"run_time_ns\":%llu,\"ns_per_run\":%.1f}\n",
                  s.name.c_str(), static_cast<unsigned long long>(s.run_count),
                  static_cast<unsigned long long>(s.run_time_ns), per_run);
    else
      std::fprintf(stderr, "skbtrail %s: bpf-stats: %s runs %llu, %.1f ns/run\n", command, s.name.c_str(),
                   static_cast<unsigned long long>(s.run_count), per_run);
  }
  std::fflush(stdout);
}

}  // namespace skbtrail
