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

#include "runner/probes.h"
#include "runner/session.h"

namespace skbtrail {

struct ExecOptions {
  RunOptions run;
  std::filesystem::path file;
  std::vector<std::string> cflags;  // -DNAME=VALUE passed through
};

// The probes a program asks for by its function names, and its perf tables.
struct ExecPlan {
  std::vector<ProbeSpec> probes;
  std::vector<std::string> perf_tables;
  bool uses_trace_printk = false;
};

// Scans program text (comments ignored). Throws UsageError when the program
// attaches nothing.
ExecPlan plan_exec(std::string_view source, const std::string& file_name);

int run_exec(const ExecOptions& options);

}  // namespace skbtrail
