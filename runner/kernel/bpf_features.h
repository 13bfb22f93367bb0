// What the running kernel's BPF can do, probed by loading tiny programs and
// creating tiny maps (as `bpftool feature probe` does, through libbpf's
// libbpf_probe_bpf_*), not guessed from the version: backport kernels
// (RHEL 7's 3.10 has BPF kprobes, tracepoints and stack maps) and vendor
// kernels with features turned off make the version a poor witness.
// runner/kernel/abi.h keeps the version tables for kernels that are not
// running (check, bundles).
#pragma once

#include <string>
#include <vector>

namespace skbtrail {

struct BpfFeatures {
  bool probed = false;  // false: not asked (no bpf() permission): use the version tables
  // Program types.
  bool kprobe_programs = false;
  bool tracepoint_programs = false;
  bool raw_tracepoint_programs = false;
  // Map types.
  bool stack_trace_maps = false;
  bool lru_hash_maps = false;
  bool percpu_array_maps = false;
  bool perf_event_arrays = false;
  // Helpers, as kprobe programs see them.
  bool probe_read_kernel = false;
  bool probe_read_str = false;
  bool get_stackid = false;

  // (name, present) in doctor's order.
  std::vector<std::pair<std::string, bool>> rows() const;
};

// Probes the running kernel. Needs bpf() permission; without it returns
// probed = false.
BpfFeatures probe_bpf_features();

}  // namespace skbtrail
