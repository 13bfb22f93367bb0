#include "runner/tools/exec/exec.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/output/text.h"
#include "runner/session/run.h"
#include "runner/tools/exec/exec_record.h"
#include "runner/tools/options.h"

namespace skbtrail {

namespace {

// Comments can mention kprobe__foo without meaning it.
std::string strip_comments(std::string_view text) {
  static const std::regex comments(R"(/\*[\s\S]*?\*/|//[^\n]*)");
  return std::regex_replace(std::string(text), comments, " ");
}

}  // namespace

Plan exec_plan(std::string_view source, const std::string& file_name, const std::vector<std::string>& cflags) {
  const std::string text = strip_comments(source);
  Plan plan;
  plan.command = "exec";
  plan.program = plan.label = file_name;
  plan.source = std::string(source);
  plan.cflags = cflags;
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

  if (plan.probes.empty())
    throw UsageError(fmt::format("{}: no function named kprobe__FN, kretprobe__FN, tracepoint__CAT__NAME or "
                                 "raw_tracepoint__NAME (and no TRACEPOINT_PROBE): nothing to attach",
                                 file_name));
  return plan;
}

bool uses_trace_printk(std::string_view source) {
  return strip_comments(source).find("bpf_trace_printk") != std::string::npos;
}

std::string read_program_file(const std::filesystem::path& file, std::string_view option) {
  std::ifstream in(file);
  if (!in)
    throw UsageError(fmt::format("{} '{}': cannot read the program file (check the path)", option, file.string()));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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

// Samples of any of the program's perf tables, in hex; trace_pipe lines as
// they come.
class ExecReporter : public Reporter {
 public:
  ExecReporter(const Plan& plan, bool trace_printk) : plan_(plan), trace_printk_(trace_printk) {}
  size_t event_size() const override { return 0; }
  bool sample(size_t table, std::span<const uint8_t> bytes, StackMap&, Output& out) override {
    out.write(ExecSampleRecord{plan_.perf_tables[table], bytes});
    return true;
  }
  void lost(size_t table, int cpu, uint64_t count, Output& out) override {
    fmt::format_to(std::back_inserter(out.text()), "--- {} samples of {} lost on cpu {} (ring full) ---\n", count,
                   plan_.perf_tables[table], cpu);
  }
  void started(SessionControl& control) override {
    if (!trace_printk_) return;
    trace_pipe_ = std::make_unique<TracePipe>(control.loop, control.facts.kernel().tracefs, control.out.text(),
                                              control.flush, [this, &control](size_t lines) {
                                                // Without perf tables, trace lines are the events -c counts.
                                                if (plan_.perf_tables.empty()) control.add_events(lines);
                                              });
  }

 private:
  const Plan& plan_;
  bool trace_printk_;
  std::unique_ptr<TracePipe> trace_pipe_;
};

constexpr const char* kExecExamples = R"(
examples:
  skbtrail exec tests/programs/kprobe_rst.bpf.c -c 1      first RST-sending call
  skbtrail exec my.c -D PORT=443 --duration 10s           with a -D define, for 10 s

Function names attach like BCC's Python front end does: kprobe__FN,
kretprobe__FN, tracepoint__CAT__NAME (or TRACEPOINT_PROBE(CAT, NAME)),
raw_tracepoint__NAME (or RAW_TRACEPOINT_PROBE(NAME)). bpf_trace_printk()
lines come from trace_pipe; BPF_PERF_OUTPUT samples are printed in hex.
)";

int run_exec(const ExecOptions& options) {
  const std::string source = read_program_file(options.file, "exec");
  const Plan plan = exec_plan(source, options.file.filename().string(), options.cflags);
  const bool trace_printk = uses_trace_printk(source);
  return run_tool({"exec", &options.run, options.file.string(), [&](const KernelFacts&) { return plan; },
                   {&options.run, "", {}, ""},
                   [&](const SessionContext&) { return std::make_unique<ExecReporter>(plan, trace_printk); }});
}

class ExecTool : public Tool {
 public:
  std::string_view name() const override { return "exec"; }
  std::string_view summary() const override {
    return "run your own BCC-style C program (kprobe__fn, TRACEPOINT_PROBE, ...)";
  }

  Command parse(const std::vector<std::string>& args) const override {
    po::options_description exec("exec");
    exec.add_options()
        ("define,D", po::value<std::vector<std::string>>()->value_name("NAME[=VALUE]"), "a -D for the program")
        ("file", po::value<std::string>(), "the BCC C program");
    po::options_description all;
    all.add(exec).add(run_options()).add(kernel_options());
    po::positional_options_description positional;
    positional.add("file", 1);
    const auto vm = parse_options("exec", args, all, positional);
    if (vm.count("help"))
      return Command::show(help_text("usage: skbtrail exec FILE.c [OPTIONS]\n\nCompiles a BCC-style C program for "
                                     "this kernel, attaches its probes by name and streams what it prints.",
                                     all, kExecExamples));
    if (!vm.count("file")) throw UsageError("exec: no program given (skbtrail exec FILE.c)");
    ExecOptions o;
    o.file = text_of(vm, "file");
    o.run = run_options_of(vm);
    if (vm.count("define"))
      for (const auto& d : vm["define"].as<std::vector<std::string>>()) o.cflags.push_back("-D" + d);
    return Command::run(std::move(o), &run_exec);
  }

};

}  // namespace

const Tool& exec_tool() {
  static const ExecTool tool;
  return tool;
}

}  // namespace skbtrail
