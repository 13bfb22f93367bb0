#include "runner/tools/check/check.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

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

// The compiler's words for a failed compile: its errors, each with the two
// lines that show where; the warnings and include chains the kernel
// headers make clang print are left out.
std::string compile_message(const std::string& what) {
  std::string out;
  std::istringstream in(what);
  int context = 0;
  for (std::string line; std::getline(in, line);) {
    const bool error = line.find("error:") != std::string::npos;
    if (!error && context == 0) continue;
    context = error ? 2 : context - 1;
    out += "         | " + line + "\n";
  }
  return out.empty() ? "         | " + what + "\n" : out;
}

// Compiles and judges one plan; returns how many parts would not load (a
// plan that does not compile counts once and says why).
int check_plan(const Plan& plan, const KernelFacts& facts, const CompatTarget& target, const CompatTable& table,
               bool verbose) {
  // Helpers follow the kernel checked (the plan's ABI flags); struct layouts
  // follow the headers compiled against.
  CompileRequest request{plan.program, plan.cflags, facts.headers(), plan.source};
  BpfObject module;
  try {
    module = compile_program(request);
  } catch (const std::exception& e) {
    std::printf("  FAIL %s: does not compile (header mode %s):\n%s", plan.label.c_str(), facts.headers().mode.c_str(),
                compile_message(e.what()).c_str());
    return 1;
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

// The plans to check on `facts`: every tracing command's, or the user's
// programs. A command that cannot run there at all says so (and counts).
std::vector<Plan> plans_to_check(const CheckOptions& options, const KernelFacts& facts, int& offenders) {
  std::vector<Plan> plans;
  if (!options.programs.empty()) {
    for (const auto& path : options.programs) plans.push_back(exec_plan(read_program_file(path, "--program"), path));
    return plans;
  }
  for (const Tool* tool : tools()) {
    if (!tool->traces()) continue;
    try {
      for (auto& plan : tool->check_plans(facts)) plans.push_back(std::move(plan));
    } catch (const std::exception& e) {
      std::printf("  FAIL %s: cannot be planned: %s\n", std::string(tool->name()).c_str(), e.what());
      ++offenders;
    }
  }
  return plans;
}

int check_kernel(const CheckOptions& options, const KernelFacts& facts, const CompatTarget& target,
                 const CompatTable& table) {
  int offenders = 0;
  const std::vector<Plan> plans = plans_to_check(options, facts, offenders);
  for (const auto& plan : plans) offenders += check_plan(plan, facts, target, table, options.verbose);
  return offenders;
}

// A header tree as the target: its version, its RHEL backport, its layouts
// (compiled against the tree itself) and the tracepoint layouts of its
// version (or of --tracepoint-formats DIR: a copy of the target's events/).
int check_tree(const CheckOptions& options, const std::filesystem::path& tree, const CompatTable& table) {
  HeaderOptions headers = options.headers;
  headers.kernel_headers = tree;
  headers.force = true;  // the tree is for the target, not for this machine
  const KernelInfo target_kernel = kernel_of_header_tree(headers);
  headers.kernel_release.clear();  // the tree's own version.h gives the version
  const HeaderChoice choice = choose_headers(target_kernel, headers);
  KernelFacts facts = KernelFacts::assumed(target_kernel, choice);
  if (!options.tracepoint_formats.empty()) facts.with_tracepoint_dir(options.tracepoint_formats);
  const CompatTarget target = compat_target_of(target_kernel);
  std::printf("tree %s: %s (version code %s%s), %zu instructions per program, helpers/maps/programs of %s\n",
              tree.c_str(), target_kernel.release.c_str(), format_version_code(target_kernel.version_code).c_str(),
              target_kernel.rhel_major ? fmt::format(", RHEL {}", target_kernel.rhel_major).c_str() : "",
              table.instruction_limit(target.backport.empty() ? target.version : table.backport(target.backport)->base),
              target.backport.empty() ? version_text(target.version).c_str() : target.backport.c_str());
  return check_kernel(options, facts, target, table);
}

int run_check(const CheckOptions& options) {
  const CompatTable& table = CompatTable::bundled();
  int offenders = 0;
  if (!options.trees.empty()) {
    // BCC creates the programs' maps while compiling: bpf() permission.
    usable_kernel("check");
    for (const auto& tree : options.trees) offenders += check_tree(options, tree, table);
  } else {
    std::vector<CompatTarget> targets;
    for (const auto& k : options.kernels.empty() ? default_check_kernels() : options.kernels)
      targets.push_back(parse_compat_target(k));
    // Compiling needs headers (this host's) and maps are created by BCC: root.
    const KernelFacts host = open_environment(options.headers, "check");
    for (const auto& target : targets) {
      const KernelFacts facts = target_facts(target, host, table);
      std::printf("kernel %s%s: %zu instructions per program, helpers/maps/programs of %s\n", target.name.c_str(),
                  target.backport.empty() ? "" : fmt::format(" ({} backport)", target.backport).c_str(),
                  table.instruction_limit(facts.version()),
                  target.backport.empty() ? version_text(target.version).c_str() : target.backport.c_str());
      offenders += check_kernel(options, facts, target, table);
    }
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
         "a kernel version to lint for, against this host's headers (repeatable; default 3.10 4.4 4.9 4.14 4.19 "
         "5.4; 3.10 means RHEL 7.6+)")
        ("all-trees", po::value<std::vector<std::string>>()->multitoken()->value_name("DIR..."),
         "compile against each of these header trees, as --kernel-headers does for one")
        ("tracepoint-formats", po::value<std::string>()->value_name("DIR"),
         "with --kernel-headers: the target's own tracepoint formats (a copy of its events/ directory)")
        ("program", po::value<std::vector<std::string>>()->value_name("FILE.c"),
         "check this BCC program instead of the bundled ones (repeatable)")
        ("verbose,v", po::bool_switch(), "every BPF function, not only the offenders")
        ("help,h", "this help");
    po::options_description all;
    all.add(check).add(kernel_options());
    const auto vm = parse_options("check", args, all);
    if (vm.count("help"))
      return Command::show(help_text(
          "usage: skbtrail check [--kernel X.Y]... [--program FILE.c]...\n"
          "       skbtrail check --kernel-headers DIR | --all-trees DIR...\n\n"
          "Compiles each command's own plans (every configuration its options can produce) for a kernel and reads "
          "the bytecode back: instructions per BPF function, helpers called, bpf-to-bpf calls, loops, global data, "
          "jmp32, stack depth, map and program types, compared with scripts/bpf-compat.data (first kernel of each "
          "helper, map and program type; the verifier's size limit; RHEL 7's backport set).\n\n"
          "With --kernel X.Y the programs compile against this host's headers with that version's helpers. With "
          "--kernel-headers DIR (or --all-trees DIR...) they compile against that real tree, with its version, "
          "config, RHEL backport and struct layouts, and the tracepoint layouts of its version; no --force-headers "
          "is needed. Exits 1 naming each program, configuration and compiler message, or function, that would "
          "not load.",
          all,
          "\nexamples:\n  skbtrail check                          the version matrix: 3.10 4.4 4.9 4.14 4.19 5.4\n"
          "  skbtrail check --kernel 4.9 -v          every function with its size, stack and helpers\n"
          "  skbtrail check --kernel-headers /usr/src/kernels/3.10.0-1160.el7.x86_64   a real CentOS 7 tree\n"
          "  skbtrail check --all-trees /lib/modules/*/build   every tree installed here\n"
          "  skbtrail check --kernel 4.14 --program my.bpf.c   your own program\n"));
    CheckOptions o;
    o.headers = header_options(vm);
    if (vm.count("kernel")) {
      o.kernels = vm["kernel"].as<std::vector<std::string>>();
      for (const auto& k : o.kernels) parse_compat_target(k);  // reject bad versions before compiling anything
    }
    if (vm.count("all-trees"))
      for (const auto& t : vm["all-trees"].as<std::vector<std::string>>()) o.trees.push_back(t);
    if (!o.headers.kernel_headers.empty()) {
      o.trees.insert(o.trees.begin(), o.headers.kernel_headers);
      o.headers.kernel_headers.clear();
    }
    if (!o.trees.empty() && !o.kernels.empty())
      throw UsageError("check: --kernel X.Y lints against this host's headers, --kernel-headers/--all-trees against "
                       "real trees: give one or the other");
    if (o.trees.size() > 1 && !o.headers.kernel_release.empty())
      throw UsageError("--kernel-release names one tree's release: use it with one --kernel-headers DIR");
    // Bad trees are refused before anything compiles.
    for (const auto& t : o.trees) describe_header_tree(t, vm.count("all-trees") ? "--all-trees" : "--kernel-headers");
    if (vm.count("tracepoint-formats")) {
      if (o.trees.empty()) throw UsageError("--tracepoint-formats: only with --kernel-headers DIR");
      o.tracepoint_formats = text_of(vm, "tracepoint-formats");
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
