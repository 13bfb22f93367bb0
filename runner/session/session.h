// One session loop for every tracing command: compile the plan, attach its
// probes, say what is attached, read the perf rings until -c/--duration/a
// signal/a closed output, drain, summarise. Commands keep only what is
// theirs: a Reporter that decodes and classifies their events into records.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "runner/bpf/object.h"
#include "runner/bpf/stack_map.h"
#include "runner/kernel/facts.h"
#include "runner/output/address_namer.h"
#include "runner/output/output.h"
#include "runner/session/event_loop.h"
#include "runner/session/plan.h"
#include "runner/session/run_options.h"

namespace skbtrail {

// Handles for a reporter that adds event sources of its own (exec's
// trace_pipe): the loop, the output and the event count.
struct SessionControl {
  EventLoop& loop;
  Output& out;
  const KernelFacts& facts;
  std::function<void()> flush;              // write the output now
  std::function<void(uint64_t)> add_events;  // counts toward -c N
  std::function<int(std::string_view)> table_fd;  // the program's table by name; -1 when it has none
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  // The size of one event record (recordings check it).
  virtual size_t event_size() const = 0;
  virtual void begin(Output&) {}  // column titles
  // One perf sample from plan.perf_tables[table]; false when it is not an
  // event (too short), so it is not counted.
  virtual bool sample(size_t table, std::span<const uint8_t> bytes, StackMap& stacks, Output& out) = 0;
  virtual void lost(size_t table, int cpu, uint64_t count, Output& out);
  virtual void started(SessionControl&) {}
  virtual void end(Output&) {}  // the summary at exit
};

// A reporter of one fixed-size event type with a stack id: decoding lives
// here, the command implements report().
template <typename Event>
class EventReporter : public Reporter {
 public:
  size_t event_size() const final { return sizeof(Event); }
  bool sample(size_t, std::span<const uint8_t> bytes, StackMap& stacks, Output& out) final {
    // perf pads samples to 8 bytes, so a sample may be longer, never shorter.
    if (bytes.size() < sizeof(Event)) return false;
    Event ev;
    std::memcpy(&ev, bytes.data(), sizeof(ev));
    trailing_ = bytes.subspan(sizeof(Event));
    report(ev, stacks.take(ev.stack_id), out);
    trailing_ = {};
    return true;
  }
  virtual void report(const Event& ev, std::span<const uint64_t> stack, Output& out) = 0;

 protected:
  // During report(): what the sample carries after the event (--pcap's
  // struct skbtrail_capture and packet bytes; perf's padding otherwise).
  std::span<const uint8_t> trailing() const { return trailing_; }

 private:
  std::span<const uint8_t> trailing_;
};

// What reporters are built from, once the session has it.
struct SessionContext {
  const KernelFacts& facts;
  const AddressNamer& names;
};
using ReporterFactory = std::function<std::unique_ptr<Reporter>(const SessionContext&)>;

struct SessionSettings {
  const RunOptions* run = nullptr;
  std::string filter;       // the filter as the banner says it; "" for none at all
  // Appended inside the banner's parentheses ("kernel has no drop reasons").
  std::function<std::string(const KernelFacts&)> banner_note;
  std::string record;       // --record FILE: keep the raw samples
};

// Before anything attaches: removes the kprobe_events entries that killed
// skbtrail runs left (kernels before 4.17) and says how many, on stderr.
void remove_stale_kprobes(const KernelFacts& facts, const char* command);

// Loads the plan's compiled program (`origin` says where it came from),
// attaches it and runs until -c, --duration, a signal or a closed output;
// returns the exit code. Throws EnvironmentError when nothing can be
// attached. Commands reach this through run_tool() (runner/session/run.h).
int run_session(const Plan& plan, const KernelFacts& facts, const BpfObject& object, const std::string& origin,
                const SessionSettings& settings, const ReporterFactory& make_reporter);

// --replay FILE: the user-space half of a run on recorded samples, fed
// `repeat` times (benchmarks); names come from this host.
int replay_session(const std::string& command, const std::string& path, uint32_t repeat,
                   const SessionSettings& settings, const ReporterFactory& make_reporter);

}  // namespace skbtrail
