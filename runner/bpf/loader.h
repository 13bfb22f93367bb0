// Loads a BpfObject into the kernel without BCC's compiler: creates its
// maps, points the map references at them, loads each function as the
// program type its probe needs (on first attach) and attaches it with
// libbcc_bpf's attach calls. Destroying it detaches everything and closes
// every fd, on every path (the kprobe_events entries of kernels before 4.17
// included).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runner/bpf/object.h"
#include "runner/bpf/probes.h"

namespace skbtrail {

class LoadedProgram {
 public:
  // Creates the maps. `constants` are the values of the late-bound
  // constants (placeholder -> value). Throws std::runtime_error naming the
  // map that failed.
  LoadedProgram(BpfObject object, std::map<uint32_t, uint32_t> constants = {});
  ~LoadedProgram();
  LoadedProgram(const LoadedProgram&) = delete;
  LoadedProgram& operator=(const LoadedProgram&) = delete;

  int table_fd(std::string_view name) const;  // throws when there is no such table
  // Loads target.handler (once per program type) and attaches it. Returns ""
  // on success, else why (the verifier's whole log when it refused).
  std::string attach(const ProbeTarget& target);
  const BpfObject& object() const { return object_; }

 private:
  int program_fd(const std::string& handler, ProbeKind kind, std::string& error);

  BpfObject object_;
  std::map<uint32_t, uint32_t> constants_;
  std::vector<int> map_fds_;
  std::map<std::string, int> program_fds_;  // "handler/type" -> fd
  struct Attachment {
    int fd = -1;               // perf event (kprobes, tracepoints) or raw tracepoint fd
    std::string kprobe_event;  // kprobes: the event name, for kprobe_events
  };
  std::vector<Attachment> attachments_;
};

}  // namespace skbtrail
