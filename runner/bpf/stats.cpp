#include "runner/bpf/stats.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "runner/common/errors.h"

namespace skbtrail {

BpfStatsScope::BpfStatsScope(bool enabled) {
  if (!enabled) return;
  fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
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
  if (fd_ < 0) return stats;
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

void write_json(JsonLine& line, const BpfProgramStats& s) {
  line.str("program", s.name).num("run_cnt", s.run_count).num("run_time_ns", s.run_time_ns);
  line.real("ns_per_run", s.ns_per_run());
}

void write_text(Output& out, const BpfProgramStats& s) {
  fmt::format_to(std::back_inserter(out.text()), "bpf-stats: {} runs {}, {:.1f} ns/run\n", s.name, s.run_count,
                 s.ns_per_run());
}

void print_bpf_stats(const std::string& command, const BpfProgramStats& s) {
  Output text(false);
  write_text(text, s);
  std::fprintf(stderr, "skbtrail %s: %s", command.c_str(), text.take().c_str());
}

}  // namespace skbtrail
