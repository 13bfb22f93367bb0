// skbtrail exec: run a user's BCC-style C program with BCC's auto-attach
// naming (kprobe__fn, kretprobe__fn, tracepoint__cat__name / TRACEPOINT_PROBE,
// raw_tracepoint__name / RAW_TRACEPOINT_PROBE), streaming bpf_trace_printk
// output and BPF_PERF_OUTPUT samples. The BCC-compatible path for hosts whose
// BCC Python is missing or broken.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runner/session/plan.h"
#include "runner/session/run_options.h"
#include "runner/tools/tool.h"

namespace skbtrail {

struct ExecOptions {
  RunOptions run;
  std::filesystem::path file;
  std::vector<std::string> cflags;  // -DNAME=VALUE passed through
};

// The probes a program asks for by its function names, and its perf tables
// (comments ignored). Throws UsageError when the program attaches nothing.
Plan exec_plan(std::string_view source, const std::string& file_name, const std::vector<std::string>& cflags = {});
// Whether it prints through bpf_trace_printk (then trace_pipe is streamed).
bool uses_trace_printk(std::string_view source);

// A program file's text; throws UsageError naming the file when unreadable.
std::string read_program_file(const std::filesystem::path& file, std::string_view option);

const Tool& exec_tool();

}  // namespace skbtrail
