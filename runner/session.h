// What every tracing command does before compiling: look at the kernel,
// check permission, pick headers. Fails with one actionable line.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runner/headers.h"
#include "runner/kernel_info.h"

namespace skbtrail {

// Options shared by the tracing commands (drop, trace, rst).
struct RunOptions {
  HeaderOptions headers;
  bool json = false;
  std::optional<uint64_t> count;                     // -c/--count
  std::optional<std::chrono::milliseconds> duration;  // --duration
  int perf_pages = 64;                               // per CPU, power of two
  bool verbose = false;
  std::optional<std::string> symbolize;  // --symbolize[=VMLINUX]: "" = find the vmlinux
  bool bpf_stats = false;                // --bpf-stats: run_time_ns/run_cnt per program at exit
};

struct Session {
  KernelInfo kernel;
  HeaderChoice headers;
};

// Throws EnvironmentError (no permission, no headers) or UsageError (bad
// --kernel-headers).
Session open_session(const HeaderOptions& options, std::string_view command);

}  // namespace skbtrail
