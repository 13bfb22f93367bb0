#include "runner/session/session.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/bpf/perf_stream.h"
#include "runner/bpf/llvm_plugin.h"
#include "runner/bpf/loader.h"
#include "runner/bpf/recording.h"
#include "runner/bpf/stale_kprobes.h"
#include "runner/bpf/stats.h"
#include "runner/common/errors.h"
#include "runner/session/environment.h"

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
  LoadedProgram program(object, constants);
  const auto attach_start = std::chrono::steady_clock::now();
  const auto outcomes = attach_probes(program, plan.probes, facts);
  if (run.verbose) std::fprintf(stderr, "skbtrail %s: attached in %.1f s\n", command, seconds_since(attach_start));

  bool any_attached = false;
  MissingProbes missing = plan.limits;
  for (const auto& outcome : outcomes) {
    if (outcome.attached) any_attached = true;
    else missing.emplace_back(outcome.name, fmt::format("{}", fmt::join(outcome.notes, "; ")));
  }
  if (!any_attached)
    throw EnvironmentError(fmt::format("{}: nothing could be attached: {}", command, describe_missing(missing)));

  EventLoop loop;
  const auto symbols = open_annotator_or_explain(run.symbolize, command);
  const AddressNamer names([&facts]() -> const Kallsyms& { return facts.kallsyms(); }, symbols.get());
  const std::unique_ptr<Reporter> reporter = make_reporter({facts, names});
  StackMap stacks(plan.stack_table.empty() ? -1 : program.table_fd(plan.stack_table));
  Output out(run.json);
  EventCounter counter(*reporter, out, stacks, run.count);
  counter.record_to(settings.record, plan.command);
  reporter->begin(out);

  auto flush = [&] {
    if (!out.flush()) loop.stop(StopReason::OutputClosed);
  };
  std::vector<std::unique_ptr<PerfEventStream>> streams;
  for (size_t table = 0; table < plan.perf_tables.size(); ++table) {
    streams.push_back(std::make_unique<PerfEventStream>(
        loop.context(), program.table_fd(plan.perf_tables[table]), run.perf_pages,
        [&, table](std::span<const uint8_t> sample) {
          if (!counter.deliver(table, sample)) loop.stop(StopReason::CountReached);
        },
        [&, table](int cpu, uint64_t count) { reporter->lost(table, cpu, count, out); }));
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
  SessionControl control{loop, out, facts, flush, [&](uint64_t n) {
                           if (!counter.add(n)) loop.stop(StopReason::CountReached);
                         }};
  reporter->started(control);
  flush();

  loop.run();
  if (loop.stop_reason() != StopReason::CountReached && !out.failed())
    for (auto& stream : streams) stream->drain();
  if (!out.failed()) reporter->end(out);
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
