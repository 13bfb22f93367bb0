#include "runner/bpf/kernel_calls.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace skbtrail {

int program_type_of(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe: return BPF_PROG_TYPE_KPROBE;
    case ProbeKind::Tracepoint: return BPF_PROG_TYPE_TRACEPOINT;
    case ProbeKind::RawTracepoint: return BPF_PROG_TYPE_RAW_TRACEPOINT;
  }
  return BPF_PROG_TYPE_KPROBE;
}

int create_map(const BpfTableSpec& spec) {
  uint32_t entries = spec.max_entries;
  if (spec.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
    const int cpus = libbpf_num_possible_cpus();
    if (cpus > 0) entries = static_cast<uint32_t>(cpus);
  }
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = spec.flags);
  return bpf_map_create(static_cast<bpf_map_type>(spec.type), spec.name.c_str(), spec.key_size, spec.value_size,
                        entries, &opts);
}

int load_program(int type, const std::string& name, const std::string& license, const std::vector<uint8_t>& insns,
                 uint32_t kern_version, std::string& error) {
  const auto* code = reinterpret_cast<const bpf_insn*>(insns.data());
  const size_t count = insns.size() / sizeof(bpf_insn);
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .kern_version = kern_version);
  int fd = bpf_prog_load(static_cast<bpf_prog_type>(type), name.c_str(), license.c_str(), code, count, &opts);
  if (fd >= 0) return fd;
  const int first_errno = errno;
  // Again with the verifier's log, only now that it is needed (a log costs
  // the verifier time and us memory). Kernels before 5.2 refuse a buffer
  // over UINT_MAX >> 8 bytes (16 MiB - 1).
  std::string log((1u << 24) - 1, '\0');
  LIBBPF_OPTS(bpf_prog_load_opts, logged, .kern_version = kern_version);
  logged.log_level = 1;
  logged.log_size = static_cast<uint32_t>(log.size());
  logged.log_buf = log.data();
  fd = bpf_prog_load(static_cast<bpf_prog_type>(type), name.c_str(), license.c_str(), code, count, &logged);
  if (fd >= 0) return fd;  // it loaded the second time: keep it
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n') log.pop_back();
  error = fmt::format("the kernel refused to load {} ({}){}", name, std::strerror(first_errno),
                      log.empty() ? "" : ":\n" + log);
  return -1;
}

}  // namespace skbtrail
