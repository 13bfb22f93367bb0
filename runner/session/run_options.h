// The options every tracing command shares: output, run length, headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "runner/kernel/headers.h"

namespace skbtrail {

struct RunOptions {
  HeaderOptions headers;
  bool json = false;
  std::optional<uint64_t> count;                     // -c/--count
  std::optional<std::chrono::milliseconds> duration;  // --duration
  int perf_pages = 64;                               // per CPU, power of two
  bool verbose = false;
  std::optional<std::string> symbolize;  // --symbolize[=VMLINUX]: "" = find the vmlinux
  bool bpf_stats = false;                // --bpf-stats: run_time_ns/run_cnt per program at exit
  std::string bundle;                    // --bundle FILE|DIR: run what skbtrail bundle compiled
  bool cache = true;                     // --no-cache: compile even when the cache has it
};

}  // namespace skbtrail
