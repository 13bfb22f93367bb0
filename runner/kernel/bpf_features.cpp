#include "runner/kernel/bpf_features.h"

#include <bpf/libbpf.h>

namespace skbtrail {

namespace {

// libbpf answers 1 (supported), 0 (not) or a negative errno (could not
// tell, e.g. no permission); only 1 counts.
bool yes(int answer) { return answer == 1; }

}  // namespace

std::vector<std::pair<std::string, bool>> BpfFeatures::rows() const {
  return {{"kprobe programs", kprobe_programs},
          {"tracepoint programs", tracepoint_programs},
          {"raw tracepoint programs", raw_tracepoint_programs},
          {"perf event arrays", perf_event_arrays},
          {"stack trace maps", stack_trace_maps},
          {"LRU hash maps", lru_hash_maps},
          {"per-CPU array maps", percpu_array_maps},
          {"bpf_probe_read_kernel", probe_read_kernel},
          {"bpf_probe_read_str", probe_read_str},
          {"bpf_get_stackid", get_stackid}};
}

BpfFeatures probe_bpf_features() {
  BpfFeatures f;
  // A kernel that cannot even create an array map gives no answers worth
  // trusting (no permission, or no bpf() at all).
  if (!yes(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARRAY, nullptr))) return f;
  f.probed = true;
  f.kprobe_programs = yes(libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, nullptr));
  f.tracepoint_programs = yes(libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr));
  f.raw_tracepoint_programs = yes(libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, nullptr));
  f.perf_event_arrays = yes(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PERF_EVENT_ARRAY, nullptr));
  f.stack_trace_maps = yes(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_STACK_TRACE, nullptr));
  f.lru_hash_maps = yes(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LRU_HASH, nullptr));
  f.percpu_array_maps = yes(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PERCPU_ARRAY, nullptr));
  if (f.kprobe_programs) {
    f.probe_read_kernel = yes(libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_probe_read_kernel, nullptr));
    f.probe_read_str = yes(libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_probe_read_str, nullptr));
    f.get_stackid = yes(libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_stackid, nullptr));
  }
  return f;
}

}  // namespace skbtrail
