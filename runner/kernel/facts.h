// What a command's plan is made from: one kernel, either the running one
// (everything probed: tracefs, kallsyms, tracepoint formats) or one that is
// only described by its version (skbtrail check --kernel X.Y), whose
// abilities come from runner/kernel/abi.h and whose functions are all
// assumed present. Commands, doctor and check build plans from the same
// facts, so what doctor and check report is what the command would do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runner/kernel/abi.h"
#include "runner/kernel/headers.h"
#include "runner/kernel/kallsyms.h"
#include "runner/kernel/kernel_info.h"
#include "runner/kernel/tracepoint_format.h"

namespace skbtrail {

class KernelFacts {
 public:
  // The running kernel. kallsyms may still be loading (on another thread,
  // while BCC compiles): it is waited for on first use.
  static KernelFacts running(KernelInfo kernel, HeaderChoice headers, std::shared_future<Kallsyms> kallsyms);
  // A kernel described by its info (release, version_code, has_kprobes).
  // Its tracepoint formats are the ones given (a copy of that kernel's
  // events/ directory: DIR/CATEGORY/EVENT/format, or texts by
  // "CATEGORY:EVENT"), else those runner/kernel/abi.h knows for its version.
  static KernelFacts assumed(KernelInfo kernel, HeaderChoice headers);
  KernelFacts& with_tracepoint_dir(std::filesystem::path dir);
  KernelFacts& with_tracepoint_formats(const std::map<std::string, std::string>& texts);

  const KernelInfo& kernel() const { return kernel_; }
  const HeaderChoice& headers() const { return headers_; }
  uint32_t version() const { return kernel_.version_code; }
  bool is_running() const { return running_; }

  // Kernel symbols; an empty table when unknown (every function is then
  // assumed present).
  const Kallsyms& kallsyms() const;
  bool has_function(std::string_view name) const;
  bool has_tracepoint(std::string_view category, std::string_view event) const;

  // The tracepoint's format: read from tracefs (running) or the assumed one
  // for the version; nullopt when the kernel has no such tracepoint.
  const TracepointFormat* tracepoint_format(const std::string& category, const std::string& event) const;

  // The kernel as runner/kernel/abi.h decides its branches.
  abi::Kernel abi() const { return {kernel_.version_code, kernel_.rhel_major}; }
  // The kernel whose struct layouts the programs compile against: the
  // headers' own. It is the described kernel except for `check --kernel X.Y`,
  // which lints X.Y's helpers and limits against this host's headers, so a
  // field read (nft_pktinfo's, say) must follow this host's layout there.
  abi::Kernel struct_layouts() const { return struct_layouts_.value_or(abi()); }
  KernelFacts& with_struct_layouts_of(abi::Kernel headers_kernel);

  // What its BPF can do: probed on the running kernel (bpf_features.h),
  // from the version tables (abi.h) for a described one or without
  // permission to probe.
  bool has_kprobes() const { return kernel_.has_kprobes; }
  bool has_stack_maps() const;
  bool has_bpf_tracepoints() const;
  bool has_raw_tracepoints() const;
  bool has_lru_hash() const;
  bool has_percpu_arrays() const;  // loss accounting (programs/skbtrail_output.bpf.h)
  bool has_probe_read_kernel() const;
  bool has_probe_read_str() const;
  // Where the answers came from, for doctor and check: "probed" or "by version".
  bool features_probed() const { return running_ && kernel_.features.probed; }

  // How many arguments `function` (one of probed_signatures()) takes on
  // this kernel: what was recorded with it, else its BTF (BTF mode) or its
  // header tree's declaration; nullopt when none says.
  std::optional<int> function_arity(std::string_view function) const;
  // Every probed signature, measured: what a bundle records.
  std::map<std::string, int> function_arities() const;

  // The -D flags every program gets for this kernel's helpers and maps
  // (programs/skbtrail_abi.bpf.h).
  std::vector<std::string> abi_cflags() const;

 private:
  std::string assumed_format_text(const std::string& category, const std::string& event) const;

  KernelInfo kernel_;
  HeaderChoice headers_;
  std::optional<abi::Kernel> struct_layouts_;
  bool running_ = true;
  std::shared_future<Kallsyms> kallsyms_;
  std::filesystem::path tracepoint_dir_;
  std::map<std::string, std::string> tracepoint_texts_;
  std::shared_ptr<std::map<std::string, std::optional<int>>> arities_ =
      std::make_shared<std::map<std::string, std::optional<int>>>();
  std::shared_ptr<std::map<std::string, std::optional<TracepointFormat>>> formats_ =
      std::make_shared<std::map<std::string, std::optional<TracepointFormat>>>();
};

// Starts loading /proc/kallsyms on another thread; an unreadable file gives
// an empty table (addresses then print as hex).
std::shared_future<Kallsyms> load_kallsyms_async();
// A table already at hand (tests, tables parsed from a file).
std::shared_future<Kallsyms> ready_kallsyms(Kallsyms kallsyms);

}  // namespace skbtrail
