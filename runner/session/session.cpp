#include "runner/session/session.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/bpf/perf_stream.h"
#include "runner/bpf/llvm_plugin.h"
#include "runner/bpf/loader.h"
#include "runner/bpf/map_reads.h"
#include "runner/bpf/recording.h"
#include "runner/bpf/stale_kprobes.h"
#include "runner/bpf/stats.h"
#include "runner/common/errors.h"
#include "runner/session/environment.h"
#include "runner/session/interrupt.h"
#include "runner/session/loss_ledger.h"

namespace skbtrail {

void Reporter::lost(size_t, int cpu, uint64_t count, Output& out) { out.write(LostRecord{cpu, count}); }

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Samples to the reporter, counted toward -c N and recorded when asked:
// the same for a live run and a replay.
class EventCounter {
 public:
  EventCounter(Reporter& reporter, Output& out, StackMap& stacks, std::optional<uint64_t> count)
      : reporter_(reporter), out_(out), stacks_(stacks), count_(count) {}

  void record_to(const std::string& path, const std::string& command) {
    if (!path.empty()) recorder_.emplace(path, command, reporter_.event_size());
  }
  bool done() const { return count_ && events_ >= *count_; }
  // false once -c N is reached.
  bool deliver(size_t table, std::span<const uint8_t> sample) {
    if (done()) return false;
    if (!reporter_.sample(table, sample, stacks_, out_)) return true;
    // Only what is reported is recorded: a -c N run replays as N events.
    if (recorder_) recorder_->write(sample);
    ++events_;
    return !done();
  }
  bool add(uint64_t n) {
    events_ += n;
    return !done();
  }

 private:
  Reporter& reporter_;
  Output& out_;
  StackMap& stacks_;
  std::optional<uint64_t> count_;
  uint64_t events_ = 0;
  std::optional<SampleRecorder> recorder_;
};

void report_bpf_stats(const BpfStatsScope& stats, const std::string& command, Output& out) {
  for (const auto& s : stats.read()) {
    if (out.json()) out.write(s);
    else print_bpf_stats(command, s);
  }
  out.flush();
}

// "kprobe:a, kretprobe:a"; with many (trace's hops), their names only:
// "34 probes: ip_rcv, ip_rcv_core, ...".
std::string attached_text(const std::vector<AttachOutcome>& outcomes) {
  std::vector<std::string> targets, names;
  for (const auto& o : outcomes) {
    if (!o.attached) continue;
    targets.push_back(o.attached->describe());
    names.push_back(o.name);
  }
  if (targets.size() <= 6) return fmt::format("{}", fmt::join(targets, ", "));
  return fmt::format("{} probes: {}", names.size(), fmt::join(names, ", "));
}

// The per-CPU output counters of `slots` slots: counts[slot][cpu]. Empty
// when they cannot be read (then the run says nothing it cannot prove).
LossLedger::Counts read_output_counts(int fd, size_t slots) {
  LossLedger::Counts counts;
  const auto values = read_percpu_values(fd, static_cast<uint32_t>(slots), sizeof(skbtrail_output_count));
  if (!values) return counts;
  for (const auto& per_cpu : *values) {
    counts.emplace_back(per_cpu.size() / sizeof(skbtrail_output_count));
    std::memcpy(counts.back().data(), per_cpu.data(), counts.back().size() * sizeof(skbtrail_output_count));
  }
  return counts;
}

// The ledger of a plan whose program counts its output, else none.
std::optional<LossLedger> ledger_for(const Plan& plan, const LoadedProgram& program, int& counts_fd) {
  if (plan.output_slots.empty()) return std::nullopt;
  try {
    counts_fd = program.table_fd("skbtrail_output_counts");
  } catch (const std::exception&) {
    return std::nullopt;  // compiled without per-CPU arrays (a bundle from elsewhere)
  }
  return LossLedger();
}

}  // namespace

void remove_stale_kprobes(const KernelFacts& facts, const char* command) {
  const auto& tracefs = facts.kernel().tracefs;
  std::error_code ec;
  if (tracefs.empty() || !std::filesystem::exists(tracefs / "kprobe_events", ec)) return;
  const StaleKprobes found = find_stale_kprobes(tracefs, true);
  if (!found.stale.empty()) std::fprintf(stderr, "skbtrail %s: %s\n", command, describe_stale(found, true).c_str());
}

int run_session(const Plan& plan, const KernelFacts& facts, const BpfObject& object, const std::string& origin,
                const SessionSettings& settings, const ReporterFactory& make_reporter) {
  const RunOptions& run = *settings.run;
  const char* command = plan.command.c_str();
  if (run.verbose) std::fprintf(stderr, "skbtrail %s: program %s %s\n", command, plan.program.c_str(), origin.c_str());
  remove_stale_kprobes(facts, command);
  std::map<uint32_t, uint32_t> constants;
  for (const auto& late : plan.constants) constants[late.placeholder] = late.value;
  // Before the program, so it outlives it: its signal set catches signals
  // until the last probe is detached; chained, a signal is seen at once.
  EventLoop loop;
  interrupt::chain();
  LoadedProgram program(object, constants);
  const auto attach_start = std::chrono::steady_clock::now();
  if (run.verbose) std::fprintf(stderr, "skbtrail %s: attaching %zu probes\n", command, plan.probes.size());
  // $SKBTRAIL_ATTACH_PAUSE_MS, for the scenarios that signal a run halfway
  // through its attach (tests/scenarios/cleanup.scn): a pause before each probe.
  const char* pause = std::getenv("SKBTRAIL_ATTACH_PAUSE_MS");
  const auto pause_ms = std::chrono::milliseconds(pause ? std::atoi(pause) : 0);
  const auto outcomes = attach_probes(program, plan.probes, facts, [pause_ms] {
    interrupt::throw_if_pending("while attaching probes");
    if (pause_ms.count() > 0) std::this_thread::sleep_for(pause_ms);
  });
  if (run.verbose) std::fprintf(stderr, "skbtrail %s: attached in %.1f s\n", command, seconds_since(attach_start));

  bool any_attached = false;
  MissingProbes missing = plan.limits;
  for (const auto& outcome : outcomes) {
    if (outcome.attached) any_attached = true;
    else missing.emplace_back(outcome.name, fmt::format("{}", fmt::join(outcome.notes, "; ")));
  }
  if (!any_attached)
    throw EnvironmentError(fmt::format("{}: nothing could be attached: {}", command, describe_missing(missing)));

  const auto symbols = open_annotator_or_explain(run.symbolize, command);
  const AddressNamer names([&facts]() -> const Kallsyms& { return facts.kallsyms(); }, symbols.get());
  const std::unique_ptr<Reporter> reporter = make_reporter({facts, names});
  StackMap stacks(plan.stack_table.empty() ? -1 : program.table_fd(plan.stack_table));
  Output out(run.json);
  out.give_up_waiting_when([] { return interrupt::pending() != 0; });
  EventCounter counter(*reporter, out, stacks, run.count);
  counter.record_to(settings.record, plan.command);
  reporter->begin(out);

  auto flush = [&] {
    // A signal that came while a batch was formatted: end before writing,
    // so a reader that stopped reading (a full pipe) cannot hold the run.
    if (const int signo = interrupt::pending()) {
      loop.stop(signo == SIGINT ? StopReason::Interrupted : StopReason::Signalled);
      out.flush_if_writable();
      return;
    }
    if (!out.flush()) loop.stop(StopReason::OutputClosed);
  };
  int counts_fd = -1;
  std::optional<LossLedger> ledger = ledger_for(plan, program, counts_fd);
  std::vector<std::unique_ptr<PerfEventStream>> streams;
  for (size_t table = 0; table < plan.perf_tables.size(); ++table) {
    streams.push_back(std::make_unique<PerfEventStream>(
        loop.context(), program.table_fd(plan.perf_tables[table]), run.perf_pages,
        [&, table](int cpu, std::span<const uint8_t> sample) {
          if (ledger && sample.size() >= SKBTRAIL_EVENT_SEQ_OFFSET + sizeof(uint64_t)) {
            uint64_t seq = 0;
            std::memcpy(&seq, sample.data() + SKBTRAIL_EVENT_SEQ_OFFSET, sizeof(seq));
            if (ledger->after_close(cpu, seq)) return;  // sent after the run ended
            if (const uint64_t gap = ledger->seen(cpu, seq)) reporter->lost(table, cpu, gap, out);
          }
          if (!counter.deliver(table, sample)) loop.stop(StopReason::CountReached);
        },
        [&, table](int cpu, uint64_t count) {
          // With the ledger, loss is told where the numbers jump; perf's
          // count is its witness.
          if (ledger) ledger->perf_lost(cpu, count);
          else reporter->lost(table, cpu, count, out);
        }));
    streams.back()->on_batch_end(flush);
  }
  if (run.duration) loop.stop_after(*run.duration);
  const BpfStatsScope bpf_stats(run.bpf_stats);

  if (!missing.empty()) std::fprintf(stderr, "skbtrail %s: not attached here: %s\n", command, describe_missing(missing).c_str());
  if (run.verbose) std::fprintf(stderr, "skbtrail %s: headers: %s\n", command, facts.headers().description.c_str());
  std::fprintf(stderr, "skbtrail %s: attached %s (header mode %s%s)%s; Ctrl-C to stop\n", command,
               attached_text(outcomes).c_str(), facts.headers().mode.c_str(),
               settings.banner_note ? settings.banner_note(facts).c_str() : "",
               settings.filter.empty() ? "" : fmt::format("; filter: {}", settings.filter).c_str());
  SessionControl control{loop, out, facts, flush,
                         [&](uint64_t n) {
                           if (!counter.add(n)) loop.stop(StopReason::CountReached);
                         },
                         [&program](std::string_view name) {
                           try {
                             return program.table_fd(name);
                           } catch (const std::exception&) {
                             return -1;
                           }
                         }};
  reporter->started(control);
  flush();

  loop.run();
  // Exact only when everything sent was read: not after -c N (events left
  // unread are not lost) or a closed output.
  const bool read_all = loop.stop_reason() != StopReason::CountReached && !out.failed();
  if (read_all) {
    for (auto& stream : streams) stream->drain();
    if (ledger) {
      // Probes still fire: what was tried by the time the counters are read
      // is in the rings now or lost; a second drain reads it.
      ledger->close(read_output_counts(counts_fd, plan.output_slots.size()));
      for (auto& stream : streams) stream->drain();
      for (const auto& [cpu, count] : ledger->tail_losses()) reporter->lost(0, cpu, count, out);
    }
  }
  if (!out.failed()) reporter->end(out);
  if (ledger && read_all && !out.failed()) out.write(ledger->summary(plan.output_slots));
  flush();
  report_bpf_stats(bpf_stats, plan.command, out);
  if (run.verbose) std::fprintf(stderr, "skbtrail %s: stopped: %s\n", command, loop.stop_reason_text().c_str());
  return 0;
}

int replay_session(const std::string& command, const std::string& path, uint32_t repeat,
                   const SessionSettings& settings, const ReporterFactory& make_reporter) {
  const KernelFacts facts = replay_environment();
  const auto symbols = open_annotator_or_explain(settings.run->symbolize, command.c_str());
  const AddressNamer names([&facts]() -> const Kallsyms& { return facts.kallsyms(); }, symbols.get());
  const std::unique_ptr<Reporter> reporter = make_reporter({facts, names});
  const Recording recording = read_recording(path, command, reporter->event_size());
  StackMap stacks;  // stack ids of a recording point into a map that is gone
  Output out(settings.run->json);
  EventCounter counter(*reporter, out, stacks, settings.run->count);
  reporter->begin(out);

  const auto start = std::chrono::steady_clock::now();
  uint64_t fed = 0;
  bool more = true;
  for (uint32_t round = 0; round < repeat && more; ++round)
    for (const auto& sample : recording.samples) {
      more = counter.deliver(0, sample);
      // A perf wakeup delivers samples in batches; flush like the live loop does.
      if (++fed % 256 == 0) more = out.flush() && more;
      if (!more) break;
    }
  if (!out.failed()) reporter->end(out);
  out.flush();
  const double seconds = seconds_since(start);
  std::fprintf(stderr, "skbtrail %s: replayed %llu samples from %s in %.3f s (%.0f events/s)\n", command.c_str(),
               static_cast<unsigned long long>(fed), path.c_str(), seconds,
               seconds > 0 ? static_cast<double>(fed) / seconds : 0.0);
  return 0;
}

}  // namespace skbtrail
