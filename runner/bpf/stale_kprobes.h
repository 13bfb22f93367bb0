// Kprobes a killed run left behind. Before 4.17 (no kprobe PMU: 33ea4b24277b
// "perf/core: Implement the 'perf_kprobe' PMU") a BPF kprobe is an entry
// written to tracefs' kprobe_events; a run that exits removes its entries,
// one killed with SIGKILL cannot, and they stay until someone removes them.
// skbtrail names its entries skbtrail_{p,r}_FUNC, and libbcc_bpf appends
// _bcc_PID: an entry whose PID no longer runs is stale.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace skbtrail {

struct KprobeEventEntry {
  std::string event;  // "kprobes/skbtrail_p_tcp_v4_send_reset_bcc_412"
  std::string function;
  int pid = 0;        // the run that wrote it
};

// skbtrail's entries among kprobe_events' lines ("p:kprobes/NAME FUNC",
// "r16:kprobes/NAME FUNC"); other tools' entries are not ours to judge.
std::vector<KprobeEventEntry> skbtrail_kprobe_entries(std::string_view kprobe_events_text);

bool process_is_alive(int pid);

struct StaleKprobes {
  std::vector<KprobeEventEntry> stale;  // of dead runs (all found, removed or not)
  std::vector<std::string> failed;      // "EVENT: why" for those that could not be removed
  std::string error;                    // kprobe_events could not be read
};

// The stale entries in tracefs/kprobe_events; removed too when `remove`.
StaleKprobes find_stale_kprobes(const std::filesystem::path& tracefs, bool remove,
                                const std::function<bool(int)>& alive = process_is_alive);

// "removed 2 kprobe_events entries left by killed skbtrail runs (pid 412:
// skbtrail_p_ip_rcv, skbtrail_r_ip_rcv)", for the start of a run and doctor.
std::string describe_stale(const StaleKprobes& found, bool removed);

}  // namespace skbtrail
