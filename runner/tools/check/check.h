// skbtrail check: would the programs load on another kernel? Each tracing
// command's own plans for that kernel (runner/tools/tool.h), in every
// configuration its options can produce, are compiled here (against the
// kernel's real header tree, --kernel-headers/--all-trees, or against this
// host's headers with a version's helpers, --kernel X.Y) and their bytecode
// read back (runner/bpf/bytecode.h): instruction count, helpers,
// bpf-to-bpf calls, loops, global data, jmp32, stack depth, map and program
// types, compared with scripts/bpf-compat.data (runner/data/compat_table.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runner/bpf/bytecode.h"
#include "runner/common/version.h"
#include "runner/data/compat_table.h"
#include "runner/kernel/headers.h"
#include "runner/tools/tool.h"

namespace skbtrail {

// The kernel a check is for: "4.9", or "3.10", which means RHEL 7.6+ (the
// only 3.10 kernels with eBPF tracing are Red Hat's backports).
struct CompatTarget {
  std::string name;
  uint32_t version = 0;
  std::string backport;  // "" for a mainline version
};
CompatTarget parse_compat_target(std::string_view text);  // throws UsageError
// The target a described kernel (a header tree's) is linted as: its version,
// and the rhel7 backport set for RHEL 7.
CompatTarget compat_target_of(const KernelInfo& kernel);

// One BPF function of one program configuration.
struct CheckedFunction {
  std::string function;
  std::string prog_type;  // kprobe, tracepoint, raw_tracepoint, kfunc
  BytecodeFacts facts;
};

// What is wrong with running `fn` on `target`; empty when it would load.
std::vector<std::string> compat_problems(const CheckedFunction& fn, const CompatTarget& target,
                                         const CompatTable& table);
// The same for a program's map types (maps belong to the program).
std::vector<std::string> map_problems(const std::vector<std::string>& map_types, const CompatTarget& target,
                                      const CompatTable& table);

struct CheckOptions {
  HeaderOptions headers;
  std::vector<std::string> kernels;   // --kernel, default: the CI matrix
  std::vector<std::filesystem::path> trees;  // --kernel-headers / --all-trees: real header trees
  std::filesystem::path tracepoint_formats;  // --tracepoint-formats DIR
  std::vector<std::string> programs;  // --program FILE.c: a user program instead of the bundled ones
  bool verbose = false;               // every function, not only the offenders
};

std::vector<std::string> default_check_kernels();  // 3.10 4.4 4.9 4.14 4.19 5.4

// The facts of `target` as a kernel that is not running: its version and
// abilities, this host's headers and tracefs.
KernelFacts target_facts(const CompatTarget& target, const KernelFacts& host, const CompatTable& table);

const Tool& check_tool();

}  // namespace skbtrail
