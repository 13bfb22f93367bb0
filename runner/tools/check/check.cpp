#include "runner/tools/check/check.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/bpf/program.h"
#include "runner/common/errors.h"
#include "runner/common/version.h"
#include "runner/kernel/abi.h"
#include "runner/session/environment.h"
#include "runner/tools/exec/exec.h"
#include "runner/tools/options.h"

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
  kernel.release = fmt::format("{} (checked)", target.name);
  kernel.has_kprobes = backport ? backport->progs.contains("kprobe") : abi::has_bpf_kprobes(target.version);
  return KernelFacts::assumed(std::move(kernel), host.headers());
}

namespace {

std::string prog_type_of(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe: return "kprobe";
    case ProbeKind::Tracepoint: return "tracepoint";
    case ProbeKind::RawTracepoint: return "raw_tracepoint";
  }
  return "kprobe";
}
std::string prog_type_from_name(const std::string& fn) {
  if (fn.starts_with("tracepoint__")) return "tracepoint";
  if (fn.starts_with("raw_tracepoint__")) return "raw_tracepoint";
  if (fn.starts_with("kfunc__") || fn.starts_with("kretfunc__")) return "kfunc";
  return "kprobe";
}
std::string helper_list(const BytecodeFacts& f) {
  std::vector<std::string> names;
  for (const int32_t id : f.helpers) names.push_back(helper_name(id));
  return fmt::format("{}", fmt::join(names, ","));
}

// A plan's BPF functions as check reads them back: program types from the
// plan's probes, functions this kernel never loads left out.
std::vector<CheckedFunction> checked_functions(const Plan& plan, const BpfObject& module) {
  std::vector<CheckedFunction> out;
  for (const auto& fn : module.functions) {
    if (plan.never_loaded.contains(fn.name)) continue;
    std::string type = prog_type_from_name(fn.name);
    for (const auto& spec : plan.probes)
      for (const auto& choice : spec.choices)
        if (choice.handler == fn.name) type = prog_type_of(choice.kind);
    out.push_back({fn.name, type, analyze_bytecode(fn.insns)});
  }
  return out;
}

// Compiles and judges one plan; returns how many parts would not load.
int check_plan(const Plan& plan, const KernelFacts& facts, const CompatTarget& target, const CompatTable& table,
               bool verbose) {
  CompileRequest request{plan.program, plan.cflags, facts.headers(), plan.source};
  // Helpers follow the kernel checked; struct layouts follow the headers here.
  request.cflags.push_back(fmt::format("-DSKBTRAIL_KERNEL_VERSION={}", facts.version()));
  BpfObject module;
  try {
    module = compile_program(request);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("check: {} ({})", e.what(), plan.label));
  }
  size_t largest = 0;
  int failed = 0;
  const auto functions = checked_functions(plan, module);
  for (const auto& fn : functions) {
    largest = std::max(largest, fn.facts.instructions);
    const auto problems = compat_problems(fn, target, table);
    if (!problems.empty()) ++failed;
    if (verbose || !problems.empty())
      std::printf("  %-4s %s %s [%s]: %zu insns, stack %d B, helpers %s\n", problems.empty() ? "ok" : "FAIL",
                  plan.label.c_str(), fn.function.c_str(), fn.prog_type.c_str(), fn.facts.instructions,
                  fn.facts.stack_bytes, helper_list(fn.facts).c_str());
    for (const auto& p : problems) std::printf("         %s\n", p.c_str());
  }
  std::vector<std::string> map_types;
  for (const auto& t : module.tables)
    if (const std::string type = map_type_name(t.type); std::find(map_types.begin(), map_types.end(), type) == map_types.end())
      map_types.push_back(type);
  const auto maps = map_problems(map_types, target, table);
  for (const auto& p : maps) std::printf("  FAIL %s maps: %s\n", plan.label.c_str(), p.c_str());
  if (!maps.empty()) ++failed;
  std::printf("  %-4s %s: %zu functions, largest %zu instructions, maps %s\n", failed ? "FAIL" : "ok",
              plan.label.c_str(), functions.size(), largest, fmt::format("{}", fmt::join(map_types, ",")).c_str());
  return failed;
}

// The plans to check on `facts`: every tracing command's, or the user's programs.
std::vector<Plan> plans_to_check(const CheckOptions& options, const KernelFacts& facts) {
  std::vector<Plan> plans;
  if (!options.programs.empty()) {
    for (const auto& path : options.programs) plans.push_back(exec_plan(read_program_file(path, "--program"), path));
    return plans;
  }
  for (const Tool* tool : tools())
    if (tool->traces())
      for (auto& plan : tool->check_plans(facts)) plans.push_back(std::move(plan));
  return plans;
}

int run_check(const CheckOptions& options) {
  const CompatTable& table = CompatTable::bundled();
  std::vector<CompatTarget> targets;
  for (const auto& k : options.kernels.empty() ? default_check_kernels() : options.kernels)
    targets.push_back(parse_compat_target(k));
  // Compiling needs headers (this host's) and maps are created by BCC: root.
  const KernelFacts host = open_environment(options.headers, "check");

  int offenders = 0;
  for (const auto& target : targets) {
    const KernelFacts facts = target_facts(target, host, table);
    const std::vector<Plan> plans = plans_to_check(options, facts);
    std::printf("kernel %s%s: %zu instructions per program, helpers/maps/programs of %s\n", target.name.c_str(),
                target.backport.empty() ? "" : fmt::format(" ({} backport)", target.backport).c_str(),
                table.instruction_limit(facts.version()),
                target.backport.empty() ? version_text(target.version).c_str() : target.backport.c_str());
    for (const auto& plan : plans) offenders += check_plan(plan, facts, target, table, options.verbose);
  }
  std::fflush(stdout);
  if (offenders) {
    std::fprintf(stderr, "skbtrail check: %d program part(s) would not load on the kernels checked (FAIL lines above)\n",
                 offenders);
    return 1;
  }
  return 0;
}

class CheckTool : public Tool {
 public:
  std::string_view name() const override { return "check"; }
  std::string_view summary() const override {
    return "would the programs load on an older kernel (compat lint: 3.10 RHEL 7, 4.x, 5.x)";
  }

  Command parse(const std::vector<std::string>& args) const override {
    po::options_description check("check");
    check.add_options()
        ("kernel", po::value<std::vector<std::string>>()->value_name("X.Y"),
         "a kernel to check for (repeatable; default 3.10 4.4 4.9 4.14 4.19 5.4; 3.10 means RHEL 7.6+)")
        ("program", po::value<std::vector<std::string>>()->value_name("FILE.c"),
         "check this BCC program instead of the bundled ones (repeatable)")
        ("verbose,v", po::bool_switch(), "every BPF function, not only the offenders")
        ("help,h", "this help");
    po::options_description all;
    all.add(check).add(kernel_options());
    const auto vm = parse_options("check", args, all);
    if (vm.count("help"))
      return Command::show(help_text(
          "usage: skbtrail check [--kernel X.Y]... [--program FILE.c]...\n\nCompiles each command's own plans for that "
          "kernel (the configurations its options can produce (against this host's headers) and reads its "
          "bytecode back: instructions per BPF function, helpers called, bpf-to-bpf calls, loops, global data, "
          "jmp32, stack depth, map and program types. These are compared with scripts/bpf-compat.data (first "
          "kernel of each helper, map and program type; the verifier's size limit; RHEL 7's backport set). "
          "Exits 1 naming each function that would not load.",
          all,
          "\nexamples:\n  skbtrail check                          the CI matrix: 3.10 4.4 4.9 4.14 4.19 5.4\n"
          "  skbtrail check --kernel 4.9 -v          every function with its size, stack and helpers\n"
          "  skbtrail check --kernel 4.14 --program my.bpf.c   your own program\n"));
    CheckOptions o;
    o.headers = header_options(vm);
    if (vm.count("kernel")) {
      o.kernels = vm["kernel"].as<std::vector<std::string>>();
      for (const auto& k : o.kernels) parse_compat_target(k);  // reject bad versions before compiling anything
    }
    if (vm.count("program")) o.programs = vm["program"].as<std::vector<std::string>>();
    o.verbose = vm["verbose"].as<bool>();
    return Command::run(std::move(o), &run_check);
  }
};

}  // namespace

const Tool& check_tool() {
  static const CheckTool tool;
  return tool;
}

}  // namespace skbtrail
