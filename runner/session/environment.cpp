#include "runner/session/environment.h"

#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/kernel/btf_tree.h"
#include "runner/session/compile_cache.h"

namespace skbtrail {

KernelInfo usable_kernel(std::string_view command) {
  KernelInfo kernel = probe_kernel();
  if (!kernel.bpf.allowed)
    throw EnvironmentError(fmt::format("{}: no permission to call bpf() ({}): run as root (sudo skbtrail {}) or grant "
                                       "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN",
                                       command, kernel.bpf.detail, command));
  if (kernel.tracefs.empty())
    throw EnvironmentError(fmt::format("{}: tracefs is {}: mount it (mount -t tracefs nodev /sys/kernel/tracing)",
                                       command, kernel.tracefs_note));
  return kernel;
}

KernelFacts open_environment(const HeaderOptions& options, std::string_view command) {
  KernelInfo kernel = usable_kernel(command);
  // Headers generated from BTF and compiled programs are kept there, and
  // both end up in the kernel: refuse a directory others may write first.
  const std::filesystem::path cache = options.cache_root.empty() ? default_cache_root() : options.cache_root;
  require_private(cache, "cache directory");
  // /proc/kallsyms parses on another core while headers are chosen and BCC
  // compiles (bench/startup.sh).
  auto kallsyms = load_kallsyms_async();
  HeaderChoice headers = choose_headers(kernel, options);
  return KernelFacts::running(std::move(kernel), std::move(headers), std::move(kallsyms));
}

KernelFacts replay_environment() {
  KernelInfo kernel = probe_kernel({.mount_tracefs = false, .check_bpf = false});
  return KernelFacts::running(std::move(kernel), HeaderChoice{}, load_kallsyms_async());
}

}  // namespace skbtrail
