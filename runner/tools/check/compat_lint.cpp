#include "runner/tools/check/check.h"

#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/kernel/abi.h"

namespace skbtrail {

std::vector<std::string> default_check_kernels() { return {"3.10", "4.4", "4.9", "4.14", "4.19", "5.4"}; }

CompatTarget parse_compat_target(std::string_view text) {
  const auto code = parse_kernel_version(text);
  if (!code)
    throw UsageError(fmt::format("--kernel '{}': give a kernel version as X.Y (e.g. --kernel 4.9; 3.10 means RHEL 7.6+)",
                                 text));
  CompatTarget t{std::string(text), *code, ""};
  if ((*code >> 8) == ((3u << 8) | 10u)) t.backport = "rhel7";
  else if (*code < kernel_version(4, 1, 0))
    throw UsageError(fmt::format("--kernel {}: mainline kernels before 4.1 cannot attach BPF to kprobes; the only "
                                 "older ones that can are RHEL 7's 3.10 (--kernel 3.10)",
                                 text));
  return t;
}
CompatTarget compat_target_of(const KernelInfo& kernel) {
  CompatTarget t{version_text(kernel.version_code), kernel.version_code, ""};
  if (kernel.rhel_major == 7) {
    t.name += " (RHEL 7)";
    t.backport = "rhel7";
  }
  return t;
}

std::vector<std::string> map_problems(const std::vector<std::string>& map_types, const CompatTarget& target,
                                      const CompatTable& table) {
  std::vector<std::string> problems;
  const CompatTable::Backport* backport = target.backport.empty() ? nullptr : table.backport(target.backport);
  for (const auto& type : map_types) {
    if (backport) {
      if (!backport->maps.contains(type))
        problems.push_back(fmt::format("map type {} is not in the {} backport", type, target.backport));
      continue;
    }
    const auto since = table.map_since(type);
    if (!since) problems.push_back(fmt::format("map type {} has no entry in scripts/bpf-compat.data", type));
    else if (*since > target.version)
      problems.push_back(fmt::format("map type {} needs {}, not on {}", type, version_text(*since), target.name));
  }
  return problems;
}
std::vector<std::string> compat_problems(const CheckedFunction& fn, const CompatTarget& target,
                                         const CompatTable& table) {
  std::vector<std::string> problems;
  const CompatTable::Backport* backport = target.backport.empty() ? nullptr : table.backport(target.backport);
  const uint32_t v = target.version;
  const std::string where = target.backport.empty() ? target.name : fmt::format("{} ({})", target.name, target.backport);
  auto too_new = [&](const std::string& what, std::optional<uint32_t> since) {
    if (!since) return fmt::format("{} has no entry in scripts/bpf-compat.data (add its first kernel version)", what);
    return fmt::format("{} needs {}, not on {}", what, version_text(*since), where);
  };
  // Program type.
  if (backport) {
    if (!backport->progs.contains(fn.prog_type))
      problems.push_back(fmt::format("{} programs are not in the {} backport", fn.prog_type, target.backport));
  } else if (const auto since = table.prog_since(fn.prog_type); !since || *since > v) {
    problems.push_back(too_new("the " + fn.prog_type + " program type", since));
  }
  // Helpers.
  for (const int32_t id : fn.facts.helpers) {
    const std::string name = helper_name(id);
    if (backport) {
      if (!backport->helpers.contains(name))
        problems.push_back(fmt::format("helper bpf_{} ({}) is not in the {} backport", name, id, target.backport));
      continue;
    }
    const auto since = table.helper_since(name);
    if (!since || *since > v) problems.push_back(too_new(fmt::format("helper bpf_{} ({})", name, id), since));
  }
  // Verifier features.
  auto feature = [&](bool used, const char* name, const char* what) {
    const auto since = table.feature_since(name);
    if (used && (!since || *since > v)) problems.push_back(too_new(what, since));
  };
  feature(fn.facts.bpf_to_bpf_calls, "bpf-to-bpf-calls", "a bpf-to-bpf call (a function not inlined)");
  feature(fn.facts.backward_jumps, "bounded-loops", "a backward jump (a loop)");
  feature(fn.facts.global_data, "global-data", "global data (.data/.rodata/.bss)");
  feature(fn.facts.jmp32, "jmp32", "jmp32 instructions (LLVM -mcpu=v3)");
  const size_t limit = table.instruction_limit(backport ? backport->base : v);
  if (fn.facts.instructions > limit)
    problems.push_back(fmt::format("{} instructions, over the {} limit of {}", fn.facts.instructions, limit, where));
  if (fn.facts.stack_bytes > 512)
    problems.push_back(fmt::format("{} bytes of stack, over the 512-byte limit", fn.facts.stack_bytes));
  return problems;
}

KernelFacts target_facts(const CompatTarget& target, const KernelFacts& host, const CompatTable& table) {
  const CompatTable::Backport* backport = target.backport.empty() ? nullptr : table.backport(target.backport);
  KernelInfo kernel = host.kernel();  // tracefs etc. from here; version and abilities of the target
  kernel.version_code = backport ? backport->base : target.version;
  kernel.rhel_major = target.backport == "rhel7" ? 7 : 0;
  kernel.features = {};  // described, not probed
  kernel.release = fmt::format("{} (checked)", target.name);
  kernel.has_kprobes = backport ? backport->progs.contains("kprobe") : abi::has_bpf_kprobes({target.version, 0});
  KernelFacts facts = KernelFacts::assumed(std::move(kernel), host.headers());
  facts.with_struct_layouts_of(host.struct_layouts());
  return facts;
}

}  // namespace skbtrail
