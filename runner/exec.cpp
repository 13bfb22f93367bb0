#include "runner/exec.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <fmt/format.h>

#include "runner/bpf_program.h"
#include "runner/bpf_stats.h"
#include "runner/errors.h"
#include "runner/event_loop.h"
#include "runner/kallsyms.h"
#include "runner/packet_format.h"

namespace skbtrail {

namespace {

// Comments can mention kprobe__foo without meaning it.
std::string strip_comments(std::string_view text) {
  static const std::regex comments(R"(/\*[\s\S]*?\*/|//[^\n]*)");
  return std::regex_replace(std::string(text), comments, " ");
}

}  // namespace

ExecPlan plan_exec(std::string_view source, const std::string& file_name) {
  const std::string text = strip_comments(source);
  ExecPlan plan;
  std::set<std::string> seen;
  auto add = [&](ProbeKind kind, const std::string& target, const std::string& handler) {
    if (!seen.insert(handler).second) return;
    plan.probes.push_back({handler, {{kind, target, handler}}, true});
  };

  static const std::regex function(R"(\b(kprobe|kretprobe|tracepoint|raw_tracepoint)__(\w+)\s*\()");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), function); it != std::sregex_iterator(); ++it) {
    const std::string prefix = (*it)[1], rest = (*it)[2], handler = prefix + "__" + rest;
    if (prefix == "kprobe") add(ProbeKind::Kprobe, rest, handler);
    else if (prefix == "kretprobe") add(ProbeKind::Kretprobe, rest, handler);
    else if (prefix == "raw_tracepoint") add(ProbeKind::RawTracepoint, rest, handler);
    else if (const auto split = rest.find("__"); split != std::string::npos)
      add(ProbeKind::Tracepoint, rest.substr(0, split) + ":" + rest.substr(split + 2), handler);
  }
  static const std::regex tracepoint_macro(R"(\bTRACEPOINT_PROBE\s*\(\s*(\w+)\s*,\s*(\w+)\s*\))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), tracepoint_macro); it != std::sregex_iterator(); ++it)
    add(ProbeKind::Tracepoint, std::string((*it)[1]) + ":" + std::string((*it)[2]),
        "tracepoint__" + std::string((*it)[1]) + "__" + std::string((*it)[2]));
  static const std::regex raw_macro(R"(\bRAW_TRACEPOINT_PROBE\s*\(\s*(\w+)\s*\))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), raw_macro); it != std::sregex_iterator(); ++it)
    add(ProbeKind::RawTracepoint, (*it)[1], "raw_tracepoint__" + std::string((*it)[1]));

  static const std::regex perf(R"(\bBPF_PERF_OUTPUT\s*\(\s*(\w+)\s*\))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), perf); it != std::sregex_iterator(); ++it)
    plan.perf_tables.push_back((*it)[1]);
  plan.uses_trace_printk = text.find("bpf_trace_printk") != std::string::npos;

  if (plan.probes.empty())
    throw UsageError(fmt::format("{}: no function named kprobe__FN, kretprobe__FN, tracepoint__CAT__NAME or "
                                 "raw_tracepoint__NAME (and no TRACEPOINT_PROBE): nothing to attach",
                                 file_name));
  return plan;
}

namespace {

// Streams trace_pipe, where bpf_trace_printk() writes. trace_pipe only
// signals poll() once the ring is buffer_percent (default 50%) full, so a
// helper thread does blocking reads and forwards the bytes through a pipe
// that the event loop can wait on. The thread ends when the pipe's reader is
// gone (its write fails) or at process exit.
class TracePipe {
 public:
  // on_lines(n) is told how many complete lines each read brought.
  TracePipe(EventLoop& loop, const std::filesystem::path& tracefs, std::string& out, std::function<void()> flush,
            std::function<void(size_t)> on_lines)
      : out_(out), flush_(std::move(flush)), on_lines_(std::move(on_lines)) {
    const int trace_fd = ::open((tracefs / "trace_pipe").c_str(), O_RDONLY | O_CLOEXEC);
    if (trace_fd < 0)
      throw EnvironmentError(fmt::format("cannot open {}/trace_pipe: {}", tracefs.string(), std::strerror(errno)));
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) {
      ::close(trace_fd);
      throw std::runtime_error("pipe2 failed");
    }
    const int write_end = ends[1];
    ::fcntl(write_end, F_SETFL, 0);  // the thread's writes may block; the loop's reads may not
    std::thread([trace_fd, write_end] {
      char buf[4096];
      for (ssize_t n; (n = ::read(trace_fd, buf, sizeof(buf))) > 0;)
        if (::write(write_end, buf, static_cast<size_t>(n)) != n) break;
      ::close(trace_fd);
      ::close(write_end);
    }).detach();
    pipe_ = std::make_unique<boost::asio::posix::stream_descriptor>(loop.context(), ends[0]);
    wait();
  }

 private:
  void wait() {
    pipe_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;
      char buf[4096];
      ssize_t n;
      size_t lines = 0;
      while ((n = ::read(pipe_->native_handle(), buf, sizeof(buf))) > 0) {
        out_.append(buf, static_cast<size_t>(n));
        lines += static_cast<size_t>(std::count(buf, buf + n, '\n'));
      }
      flush_();
      if (lines) on_lines_(lines);
      if (n != 0) wait();  // n == 0: the thread ended
    });
  }
  std::string& out_;
  std::function<void()> flush_;
  std::function<void(size_t)> on_lines_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> pipe_;
};

}  // namespace

int run_exec(const ExecOptions& options) {
  std::ifstream in(options.file);
  if (!in)
    throw UsageError(fmt::format("exec '{}': cannot read the program file (check the path)", options.file.string()));
  const std::string source{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const ExecPlan plan = plan_exec(source, options.file.string());

  Session session = open_session(options.run.headers, "exec");
  Kallsyms kallsyms;
  try {
    kallsyms = Kallsyms::load();
  } catch (const std::exception&) {
  }
  BpfProgram program({options.file.filename().string(), options.cflags, session.headers, source});
  const auto outcomes = attach_probes(program, plan.probes, session.kernel, &kallsyms);

  EventLoop loop;
  BatchedOutput output(loop);
  std::string& out = output.buffer();
  uint64_t samples = 0;
  auto flush = [&] { output.flush(); };
  std::vector<std::unique_ptr<PerfEventStream>> streams;
  for (const auto& table : plan.perf_tables) {
    auto on_sample = [&, table](std::span<const uint8_t> sample) {
      if (options.run.count && samples >= *options.run.count) return;
      ++samples;
      if (options.run.json) {
        out += "{\"type\":\"sample\",\"table\":";
        append_json_string(out, table);
        out += ",\"hex\":\"";
        for (const uint8_t byte : sample) fmt::format_to(std::back_inserter(out), "{:02x}", byte);
        out += "\"}\n";
      } else {
        fmt::format_to(std::back_inserter(out), "{}:", table);
        for (const uint8_t byte : sample) fmt::format_to(std::back_inserter(out), " {:02x}", byte);
        out += '\n';
      }
      if (options.run.count && samples >= *options.run.count) loop.stop("count reached");
    };
    auto on_lost = [&, table](int cpu, uint64_t lost) {
      fmt::format_to(std::back_inserter(out), "*** lost {} samples of {} on CPU {}\n", lost, table, cpu);
    };
    streams.push_back(std::make_unique<PerfEventStream>(loop, program.table_fd(table), options.run.perf_pages,
                                                        on_sample, on_lost));
    streams.back()->on_batch_end(flush);
  }
  std::unique_ptr<TracePipe> trace_pipe;
  if (plan.uses_trace_printk)
    trace_pipe = std::make_unique<TracePipe>(loop, session.kernel.tracefs, out, flush, [&](size_t lines) {
      // Without perf tables, trace lines are the events -c counts.
      if (!plan.perf_tables.empty() || !options.run.count) return;
      samples += lines;
      if (samples >= *options.run.count) loop.stop("count reached");
    });
  if (options.run.duration) loop.stop_after(*options.run.duration);

  std::string attached;
  for (const auto& outcome : outcomes)
    if (outcome.attached) attached += (attached.empty() ? "" : ", ") + outcome.attached->describe();
  const BpfStatsScope bpf_stats(options.run.bpf_stats);
  std::fprintf(stderr, "skbtrail exec: attached %s (header mode %s); Ctrl-C to stop\n", attached.c_str(),
               session.headers.mode.c_str());
  loop.run();
  for (auto& stream : streams) stream->drain();
  flush();
  bpf_stats.report("exec", options.run.json);
  return 0;
}

}  // namespace skbtrail
