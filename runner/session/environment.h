// What every tracing command does before planning: look at the kernel,
// check permission, pick headers, start loading kallsyms. Fails with one
// actionable line.
#pragma once

#include <string_view>

#include "runner/kernel/facts.h"

namespace skbtrail {

// Throws EnvironmentError (no permission, no tracefs, no headers) or
// UsageError (bad --kernel-headers).
KernelFacts open_environment(const HeaderOptions& options, std::string_view command);
// The running kernel when the program comes compiled (a bundle): permission
// and tracefs checked, no headers needed. Throws EnvironmentError.
KernelInfo usable_kernel(std::string_view command);

// The running kernel for reading recordings: no bpf() needed, nothing mounted.
KernelFacts replay_environment();

}  // namespace skbtrail
