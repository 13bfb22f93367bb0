#include "runner/tools/doctor/doctor.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/bpf/probes.h"
#include "runner/bpf/program.h"
#include "runner/bpf/stale_kprobes.h"
#include "runner/common/errors.h"
#include "runner/netfilter/readers.h"
#include "runner/tools/options.h"

namespace skbtrail {

namespace {

// Rule blame: which libraries load, and what they read in this namespace.
DoctorRow rule_blame_row() {
  netfilter::RulesetReader reader;
  DoctorRow row{"rule blame (counters)", reader.available() ? "yes" : "no", "", true};
  std::vector<std::string> parts = reader.describe();
  if (reader.available()) {
    const netfilter::Ruleset set = reader.read(netfilter::current_netns());
    size_t counted = 0;
    for (const auto& rule : set.rules) counted += rule.counter.present;
    parts.push_back(fmt::format("this netns: {} chains, {} rules, {} with counters", set.chains.size(),
                                set.rules.size(), counted));
    for (const auto& e : set.errors) parts.push_back(e);
  } else {
    parts.push_back("netfilter drops are shown without their rule");
  }
  row.detail = fmt::format("{}", fmt::join(parts, "; "));
  return row;
}

// trace --netfilter: nft_do_chain / ipt_do_table entry and return probes.
// kprobe_events entries of killed runs (kernels before 4.17): listed, not
// removed (doctor changes nothing; the next tracing run removes them).
DoctorRow leftover_kprobes_row(const KernelInfo& kernel) {
  DoctorRow row{"leftover kprobes", "none", "", true};
  std::error_code ec;
  if (kernel.tracefs.empty() || !std::filesystem::exists(kernel.tracefs / "kprobe_events", ec)) {
    row.detail = "no kprobe_events here";
    return row;
  }
  const StaleKprobes found = find_stale_kprobes(kernel.tracefs, false);
  if (!found.error.empty()) {
    row.status = "unknown";
    row.detail = found.error;
  } else if (found.stale.empty()) {
    row.detail = kernel.kprobe_mechanism == "kprobe_events"
                     ? "no kprobe_events entries of dead skbtrail runs"
                     : "no kprobe_events entries of dead skbtrail runs (kprobes are perf events here: a killed run leaves none)";
  } else {
    row.status = std::to_string(found.stale.size());
    row.detail = describe_stale(found, false) + "; the next skbtrail run removes them";
  }
  return row;
}

DoctorRow chain_verdicts_row(const KernelFacts& facts) {
  DoctorRow row{"chain verdicts (trace --netfilter)", "no", "", true};
  if (!facts.has_kprobes()) {
    row.detail = "needs kprobes on nft_do_chain/ipt_do_table; drop's rule blame still names the chain";
    return row;
  }
  std::vector<std::string> present, absent;
  for (const char* fn : {"nft_do_chain", "ipt_do_table"}) (facts.has_function(fn) ? present : absent).push_back(fn);
  const bool nft_types_missing = facts.headers().btf && !facts.headers().btf_has_nf_tables;
  if (nft_types_missing && !present.empty() && present.front() == "nft_do_chain") {
    present.erase(present.begin());
    row.detail = "nft_do_chain: nf_tables' types are not in the BTF (module not loaded or without BTF; headers "
                 "mode reads them from net/netfilter/nf_tables.h)";
  }
  row.status = present.empty() ? "no" : "yes";
  if (!present.empty())
    row.detail += fmt::format("{}kprobes on {}", row.detail.empty() ? "" : "; ", fmt::join(present, ", "));
  if (!absent.empty())
    row.detail += fmt::format("{}{} not in /proc/kallsyms (module not loaded: nf_tables / ip_tables load with "
                              "the first nft or iptables-legacy rule)",
                              row.detail.empty() ? "" : "; ", fmt::join(absent, ", "));
  return row;
}

DoctorRow tracepoint_row(const KernelFacts& facts, const char* category, const char* event, const char* field) {
  DoctorRow row{fmt::format("{}:{}", category, event), "no", "", false};
  if (!facts.has_tracepoint(category, event)) {
    row.detail = "absent on this kernel";
    return row;
  }
  row.status = "yes";
  row.ok = true;
  try {
    const auto* format = facts.tracepoint_format(category, event);
    if (field && format) {
      const auto* table = format->symbolic_for(field);
      row.detail = format->field(field) ? fmt::format("{} field: yes ({} names)", field,
                                                      table ? ValueNames(*table).size() : 0)
                                        : fmt::format("{} field: no (added in later kernels)", field);
    }
  } catch (const std::exception& e) {
    row.detail = e.what();
  }
  return row;
}

}  // namespace

DoctorReport build_doctor_report(const KernelFacts& facts, bool headers_ok, const std::string& headers_status,
                                 const std::string& headers_detail) {
  const KernelInfo& kernel = facts.kernel();
  DoctorReport r;
  r.facts.push_back({"bpf() permission", kernel.bpf.allowed ? "yes" : "no",
                     kernel.bpf.allowed ? "" : fmt::format("{}; fix: run as root or grant CAP_BPF+CAP_PERFMON",
                                                           kernel.bpf.detail),
                     kernel.bpf.allowed});
  r.facts.push_back({"BTF", kernel.has_btf() ? "yes" : "no",
                     kernel.has_btf() ? kernel.btf_path.string()
                                      : "no /sys/kernel/btf/vmlinux (kernel built without CONFIG_DEBUG_INFO_BTF)",
                     true});
  r.facts.push_back({"kernel headers", kernel.has_headers() ? "yes" : "no",
                     kernel.has_headers()
                         ? kernel.headers_dir.string()
                         : fmt::format("none in /lib/modules/{}/build; fix: apt-get install linux-headers-{} "
                                       "(or yum install kernel-devel-{}){}",
                                       kernel.release, kernel.release, kernel.release,
                                       kernel.has_btf() ? "; not needed while BTF works" : ""),
                     true});
  r.facts.push_back({"headers used", headers_status, headers_detail, headers_ok});
  r.facts.push_back({"kprobes", kernel.has_kprobes ? "yes" : "no",
                     kernel.has_kprobes ? kernel.kprobe_mechanism
                                        : "no kprobe PMU and no kprobe_events (CONFIG_KPROBES off); fix: a kernel "
                                          "with CONFIG_KPROBES=y; commands fall back to tracepoints",
                     true});
  r.facts.push_back(leftover_kprobes_row(kernel));
  r.facts.push_back({"tracefs", kernel.tracefs.empty() ? "no" : "yes",
                     kernel.tracefs.empty() ? fmt::format("{}; fix: mount -t tracefs nodev /sys/kernel/tracing",
                                                          kernel.tracefs_note)
                                            : fmt::format("{}{}", kernel.tracefs.string(),
                                                          kernel.tracefs_note.empty() ? "" : " (" + kernel.tracefs_note + ")"),
                     !kernel.tracefs.empty()});
  r.facts.push_back({"kallsyms", kernel.kallsyms_readable ? "yes" : "no",
                     kernel.kallsyms_readable ? fmt::format("{} text symbols", facts.kallsyms().size())
                                              : "addresses hidden (kptr_restrict); fix: run as root",
                     kernel.kallsyms_readable});
  // What BPF can do here: probed by loading tiny programs and maps, not
  // guessed from the version (RHEL 7's 3.10 has most of 4.x by backport).
  if (kernel.features.probed) {
    for (const auto& [name, present] : kernel.features.rows())
      r.facts.push_back({"bpf: " + name, present ? "yes" : "no", "probed", true});
  } else {
    r.facts.push_back({"bpf features", "unknown", "not probed (no bpf() permission); version tables used", true});
  }
  r.facts.push_back(tracepoint_row(facts, "skb", "kfree_skb", "reason"));
  r.facts.push_back(tracepoint_row(facts, "skb", "consume_skb", nullptr));
  r.facts.push_back(tracepoint_row(facts, "tcp", "tcp_send_reset", "reason"));
  r.facts.push_back(tracepoint_row(facts, "tcp", "tcp_receive_reset", nullptr));
  r.facts.push_back(tracepoint_row(facts, "net", "netif_receive_skb", nullptr));
  r.facts.push_back(tracepoint_row(facts, "net", "net_dev_queue", nullptr));
  r.facts.push_back({"netfilter hook of a drop", kernel.has_kprobes ? "yes" : "no",
                     kernel.has_kprobes ? "kprobes on nf_hook_slow (drop --diag)"
                                        : "needs kprobes; rule blame names the chain from the blamed rule instead",
                     true});
  r.facts.push_back(chain_verdicts_row(facts));
  r.facts.push_back(rule_blame_row());

  const bool basics = kernel.bpf.allowed && headers_ok && !kernel.tracefs.empty();
  for (const Tool* tool : tools()) {
    if (!tool->traces()) continue;
    DoctorRow row = command_row(*tool, facts);
    if (!basics) {
      row.status = "unusable";
      row.ok = false;
      row.detail += row.detail.empty() ? "needs bpf() permission, headers and tracefs"
                                       : "; needs bpf() permission, headers and tracefs";
    }
    r.can_run = r.can_run || row.ok;
    r.commands.push_back(std::move(row));
  }
  return r;
}

DoctorRow command_row(const Tool& tool, const KernelFacts& facts) {
  DoctorRow row{std::string(tool.name()), "ready", "", true};
  Plan plan;
  try {
    plan = tool.default_plan(facts);
  } catch (const std::exception& e) {
    row.status = "unusable";
    row.ok = false;
    row.detail = e.what();
    return row;
  }
  std::vector<std::string> uses;
  MissingProbes lacks = plan.limits;
  bool required_missing = false;
  for (const auto& spec : plan.probes) {
    const ProbeChoice choice = choose_probe(spec, facts);
    lacks.insert(lacks.end(), choice.passed_over.begin(), choice.passed_over.end());
    if (choice.usable) uses.push_back(choice.usable->describe());
    else required_missing = required_missing || spec.required;
  }
  if (required_missing || uses.empty()) {
    row.status = "unusable";
    row.ok = false;
    if (uses.empty() && lacks.empty()) lacks.emplace_back("every probe", "none of its probes can attach here");
  } else if (!lacks.empty()) {
    row.status = "partial";
  }
  row.detail = uses.empty() ? "" : fmt::format("uses {}", fmt::join(uses, ", "));
  if (!lacks.empty()) row.detail += fmt::format("{}lacks {}", row.detail.empty() ? "" : "; ", describe_missing(lacks));
  return row;
}

std::string format_doctor_report(const KernelInfo& kernel, const DoctorReport& report) {
  std::string out = fmt::format("kernel {} (version code {}{})\n\n", kernel.release,
                                format_version_code(kernel.version_code),
                                kernel.has_kernel_config ? ", /proc/config.gz present" : "");
  fmt::format_to(std::back_inserter(out), "{:<30} {:<9} {}\n", "CHECK", "STATUS", "DETAIL");
  for (const auto& row : report.facts)
    fmt::format_to(std::back_inserter(out), "{:<30} {:<9} {}\n", row.check, row.status, row.detail);
  fmt::format_to(std::back_inserter(out), "\n{:<30} {:<9} {}\n", "COMMAND", "STATUS", "PROBES");
  for (const auto& row : report.commands)
    fmt::format_to(std::back_inserter(out), "{:<30} {:<9} {}\n", row.check, row.status, row.detail);
  if (!report.can_run) out += "\nnothing can run here: fix the rows marked no/unusable above\n";
  return out;
}

namespace {

constexpr const char* kDoctorText = R"(usage: skbtrail doctor [OPTIONS]

Lists what this kernel offers a BCC tracer (BTF, headers, kprobes, tracefs,
kallsyms, tracepoints, bpf() permission, and what its BPF can do: program
types, map types and helpers, probed by loading tiny programs as bpftool
feature does), which headers skbtrail would use,
compiles the drop program as a smoke test, and shows what each tracing
command would attach here (its own plan with default options) or lack, with
the fix for every missing piece. Exits 1 when nothing can run.
)";

int run_doctor(const DoctorOptions& options) {
  KernelInfo kernel = probe_kernel();
  bool headers_ok = false;
  std::string headers_status = "none", headers_detail;
  HeaderChoice choice;
  try {
    choice = choose_headers(kernel, options.headers);
    headers_ok = true;
    headers_status = choice.mode;
    headers_detail = choice.description;
  } catch (const std::exception& e) {
    headers_detail = e.what();
  }
  const KernelFacts facts = KernelFacts::running(std::move(kernel), choice, load_kallsyms_async());
  DoctorReport report = build_doctor_report(facts, headers_ok, headers_status, headers_detail);

  if (options.compile && headers_ok && facts.kernel().bpf.allowed) {
    // The smoke test compiles what `skbtrail drop` would.
    const Tool* drop = find_tool("drop");
    DoctorRow row{"compile drop.bpf.c", "ok", "", true};
    const auto start = std::chrono::steady_clock::now();
    try {
      const Plan plan = drop->default_plan(facts);
      compile_plan(plan, choice);
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      row.detail = fmt::format("{:.1f} s in header mode {}", took.count(), choice.mode);
    } catch (const std::exception& e) {
      row.status = "failed";
      row.ok = false;
      row.detail = std::string(e.what()).substr(0, 400);
      report.can_run = false;
      for (auto& command : report.commands) {
        command.status = "unusable";
        command.ok = false;
        command.detail = "the programs do not compile here (compile drop.bpf.c above); " + command.detail;
      }
    }
    report.facts.insert(report.facts.begin() + 4, row);
  }
  std::fputs(format_doctor_report(facts.kernel(), report).c_str(), stdout);
  return report.can_run ? 0 : kExitFailure;
}

class DoctorTool : public Tool {
 public:
  std::string_view name() const override { return "doctor"; }
  std::string_view summary() const override { return "what this kernel offers and what each command can use"; }

  Command parse(const std::vector<std::string>& args) const override {
    po::options_description doctor("doctor");
    doctor.add_options()("no-compile", po::bool_switch(), "skip the compile smoke test")("help,h", "this help");
    po::options_description all;
    all.add(doctor).add(kernel_options());
    const auto vm = parse_options("doctor", args, all);
    if (vm.count("help")) return Command::show(help_text(kDoctorText, all, ""));
    DoctorOptions o;
    o.headers = header_options(vm);
    o.compile = !vm["no-compile"].as<bool>();
    return Command::run(std::move(o), &run_doctor);
  }
};

}  // namespace

const Tool& doctor_tool() {
  static const DoctorTool tool;
  return tool;
}

}  // namespace skbtrail
