// skbtrail check --kernel X.Y: would the bundled programs load on an older
// kernel? Each program is compiled here with the configuration the runner
// would give it on that kernel, and its bytecode is read back: instruction
// count, helpers called, bpf-to-bpf calls, backward jumps, global data,
// jmp32, stack depth, map and program types. These are compared with a data
// table (scripts/bpf-compat.data) of what each kernel version can load.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runner/headers.h"
#include "runner/probes.h"

namespace skbtrail {

// What one compiled BPF function does, read from its instructions.
struct BytecodeFacts {
  size_t instructions = 0;          // 8-byte slots (a 64-bit load counts twice, as for the verifier)
  std::set<int32_t> helpers;        // helper ids (enum bpf_func_id)
  bool bpf_to_bpf_calls = false;    // BPF_PSEUDO_CALL
  bool backward_jumps = false;      // a loop, unless the old verifier unrolls it for us (it does not)
  bool global_data = false;         // BPF_PSEUDO_MAP_VALUE loads (.data/.rodata/.bss)
  bool jmp32 = false;               // BPF_JMP32 class instructions
  int stack_bytes = 0;              // deepest r10-relative access
};

BytecodeFacts analyze_bytecode(std::span<const uint8_t> bytes);

// Helper names by id, from the uapi header this binary was built with.
std::string helper_name(int32_t id);
std::string map_type_name(int type);  // "perf_event_array"; "type N" when unknown

// A version as "4.9" or "4.9.0" -> KERNEL_VERSION code; nullopt when malformed.
std::optional<uint32_t> parse_kernel_version(std::string_view text);
std::string version_text(uint32_t code);  // "4.9"

class CompatTable {
 public:
  // Throws UsageError "SOURCE:LINE: ..." for malformed lines.
  static CompatTable parse(std::string_view text, const std::string& source);
  static const CompatTable& bundled();  // scripts/bpf-compat.data

  struct Backport {
    uint32_t base = 0;  // the version its own version checks see
    std::set<std::string> progs, maps, helpers;
  };

  std::optional<uint32_t> helper_since(const std::string& name) const;
  std::optional<uint32_t> map_since(const std::string& name) const;
  std::optional<uint32_t> prog_since(const std::string& name) const;
  std::optional<uint32_t> feature_since(const std::string& name) const;
  size_t instruction_limit(uint32_t version) const;
  const Backport* backport(const std::string& name) const;

 private:
  std::map<std::string, uint32_t> helpers_, maps_, progs_, features_;
  std::map<uint32_t, size_t> insn_limits_;  // from version -> limit
  std::map<std::string, Backport> backports_;
};

// The kernel a check is for: "4.9", or "3.10", which means RHEL 7.6+ (the
// only 3.10 kernels with eBPF tracing are Red Hat's backports).
struct CompatTarget {
  std::string name;
  uint32_t version = 0;
  std::string backport;  // "" for a mainline version
};
CompatTarget parse_compat_target(std::string_view text);  // throws UsageError

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
  std::vector<std::string> programs;  // --program FILE.c: a user program instead of the bundled ones
  bool verbose = false;               // every function, not only the offenders
};

std::vector<std::string> default_check_kernels();  // 3.10 4.4 4.9 4.14 4.19 5.4

int run_check(const CheckOptions& options);

}  // namespace skbtrail
