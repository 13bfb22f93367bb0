#include "runner/bpf/loader.h"

#include <bcc/libbpf.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "runner/bpf/kernel_calls.h"

namespace skbtrail {

namespace {

// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK (64 KiB by
// default on old distributions); later ones ignore it. Raising it fails
// harmlessly without CAP_SYS_RESOURCE.
void raise_memlock_limit() {
  const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  ::setrlimit(RLIMIT_MEMLOCK, &unlimited);
}

std::string kprobe_event_name(const ProbeTarget& target) {
  // What kprobe_events calls it (libbcc_bpf adds _bcc_<pid>); our prefix
  // tells our entries from other tools'.
  std::string name = fmt::format("skbtrail_{}_{}", target.kind == ProbeKind::Kretprobe ? "r" : "p", target.target);
  for (char& c : name)
    if (c == '.') c = '_';
  return name;
}

}  // namespace

LoadedProgram::LoadedProgram(BpfObject object, std::map<uint32_t, uint32_t> constants)
    : object_(std::move(object)), constants_(std::move(constants)) {
  raise_memlock_limit();
  for (const auto& table : object_.tables) {
    const int fd = create_map(table);
    if (fd < 0) {
      const int error = errno;
      for (const int open : map_fds_) ::close(open);
      throw std::runtime_error(fmt::format("cannot create BPF map {} ({} entries of {}+{} bytes): {}", table.name,
                                           table.max_entries, table.key_size, table.value_size, std::strerror(error)));
    }
    map_fds_.push_back(fd);
  }
}

LoadedProgram::~LoadedProgram() {
  // Probes first, so nothing runs a program whose maps are going away.
  for (auto it = attachments_.rbegin(); it != attachments_.rend(); ++it) {
    if (it->kprobe_event.empty()) {
      ::close(it->fd);
    } else {
      bpf_close_perf_event_fd(it->fd);
      bpf_detach_kprobe(it->kprobe_event.c_str());
    }
  }
  for (const auto& [name, fd] : program_fds_) ::close(fd);
  for (const int fd : map_fds_) ::close(fd);
}

int LoadedProgram::table_fd(std::string_view name) const {
  for (size_t i = 0; i < object_.tables.size(); ++i)
    if (object_.tables[i].name == name) return map_fds_[i];
  throw std::runtime_error(fmt::format("program has no table '{}'", name));
}

int LoadedProgram::program_fd(const std::string& handler, ProbeKind kind, std::string& error) {
  const std::string key = fmt::format("{}/{}", handler, static_cast<int>(program_type_of(kind)));
  if (const auto it = program_fds_.find(key); it != program_fds_.end()) return it->second;
  const BpfFunction* function = object_.function(handler);
  if (!function) {
    error = fmt::format("the program has no function {}", handler);
    return -1;
  }
  std::vector<uint8_t> insns = function->insns;
  for (const auto& rel : function->relocations) {
    const int32_t fd = map_fds_[rel.table];
    std::memcpy(insns.data() + rel.insn * 8 + 4, &fd, 4);
  }
  for (const auto& use : function->constants) {
    const auto value = constants_.find(use.placeholder);
    if (value == constants_.end()) {
      error = fmt::format("{} needs a value for its constant 0x{:08x}, and this run has none", handler, use.placeholder);
      return -1;
    }
    std::memcpy(insns.data() + use.insn * 8 + 4, &value->second, 4);
  }
  const int fd = load_program(program_type_of(kind), handler, object_.license, insns, object_.kern_version, error);
  if (fd >= 0) program_fds_.emplace(key, fd);
  return fd;
}

std::string LoadedProgram::attach(const ProbeTarget& target) {
  std::string error;
  const int prog = program_fd(target.handler, target.kind, error);
  if (prog < 0) return error;
  Attachment attachment;
  switch (target.kind) {
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe:
      attachment.kprobe_event = kprobe_event_name(target);
      attachment.fd = bpf_attach_kprobe(prog, target.kind == ProbeKind::Kprobe ? BPF_PROBE_ENTRY : BPF_PROBE_RETURN,
                                        attachment.kprobe_event.c_str(), target.target.c_str(), 0, 0);
      break;
    case ProbeKind::Tracepoint: {
      const auto colon = target.target.find(':');
      attachment.fd = bpf_attach_tracepoint(prog, target.target.substr(0, colon).c_str(),
                                            target.target.substr(colon + 1).c_str());
      break;
    }
    case ProbeKind::RawTracepoint: {
      const auto colon = target.target.find(':');
      attachment.fd = bpf_attach_raw_tracepoint(
          prog, (colon == std::string::npos ? target.target : target.target.substr(colon + 1)).c_str());
      break;
    }
  }
  if (attachment.fd < 0) return fmt::format("cannot attach {}: {}", target.describe(), std::strerror(errno));
  attachments_.push_back(std::move(attachment));
  return {};
}

}  // namespace skbtrail
