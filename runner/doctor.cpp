#include "runner/doctor.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/bpf_program.h"
#include "runner/drop.h"
#include "runner/errors.h"
#include "runner/kallsyms.h"
#include "runner/probe_list.h"
#include "runner/probes.h"
#include "runner/tracepoint_format.h"

namespace skbtrail {

namespace {

// Every tracing command and the probes it needs; commands register here as
// they are added.
struct CommandNeeds {
  std::string name;
  std::vector<ProbeSpec> probes;
};

std::vector<CommandNeeds> command_needs() { return {{"drop", drop_probes()}}; }

DoctorRow tracepoint_row(const KernelInfo& kernel, const char* category, const char* event, const char* field) {
  DoctorRow row{fmt::format("{}:{}", category, event), "no", "", false};
  if (!kernel.has_tracepoint(category, event)) {
    row.detail = "absent on this kernel";
    return row;
  }
  row.status = "yes";
  row.ok = true;
  try {
    const auto format = read_tracepoint_format(kernel.tracepoint_format(category, event));
    if (field) {
      const auto* table = format.symbolic_for(field);
      row.detail = format.field(field) ? fmt::format("{} field: yes ({} names)", field,
                                                     table ? ValueNames(*table).size() : 0)
                                       : fmt::format("{} field: no (added in later kernels)", field);
    }
  } catch (const std::exception& e) {
    row.detail = e.what();
  }
  return row;
}

}  // namespace

DoctorReport build_doctor_report(const KernelInfo& kernel, const Kallsyms& kallsyms, bool headers_ok,
                                 const std::string& headers_status, const std::string& headers_detail) {
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
  r.facts.push_back({"tracefs", kernel.tracefs.empty() ? "no" : "yes",
                     kernel.tracefs.empty() ? fmt::format("{}; fix: mount -t tracefs nodev /sys/kernel/tracing",
                                                          kernel.tracefs_note)
                                            : fmt::format("{}{}", kernel.tracefs.string(),
                                                          kernel.tracefs_note.empty() ? "" : " (" + kernel.tracefs_note + ")"),
                     !kernel.tracefs.empty()});
  r.facts.push_back({"kallsyms", kernel.kallsyms_readable ? "yes" : "no",
                     kernel.kallsyms_readable ? fmt::format("{} text symbols", kallsyms.size())
                                              : "addresses hidden (kptr_restrict); fix: run as root",
                     kernel.kallsyms_readable});
  r.facts.push_back(tracepoint_row(kernel, "skb", "kfree_skb", "reason"));
  r.facts.push_back(tracepoint_row(kernel, "skb", "consume_skb", nullptr));
  r.facts.push_back(tracepoint_row(kernel, "tcp", "tcp_send_reset", "reason"));
  r.facts.push_back(tracepoint_row(kernel, "tcp", "tcp_receive_reset", nullptr));
  r.facts.push_back(tracepoint_row(kernel, "net", "netif_receive_skb", nullptr));
  r.facts.push_back(tracepoint_row(kernel, "net", "net_dev_queue", nullptr));

  const bool basics = kernel.bpf.allowed && headers_ok && !kernel.tracefs.empty();
  for (const auto& command : command_needs()) {
    DoctorRow row{command.name, "ready", "", true};
    std::vector<std::string> uses, lacks;
    bool required_missing = false;
    for (const auto& spec : command.probes) {
      bool found = false;
      for (const auto& choice : spec.choices) {
        if (auto reason = unavailable_reason(choice, kernel, &kallsyms)) {
          lacks.push_back(fmt::format("{} ({})", choice.describe(), *reason));
          continue;
        }
        uses.push_back(choice.describe());
        found = true;
        break;
      }
      if (!found && spec.required) required_missing = true;
    }
    if (!basics || required_missing) {
      row.status = "unusable";
      row.ok = false;
    } else if (!lacks.empty()) {
      row.status = "partial";
    }
    row.detail = uses.empty() ? "" : "uses " + fmt::format("{}", fmt::join(uses, ", "));
    if (!lacks.empty()) row.detail += (row.detail.empty() ? "lacks " : "; lacks ") + fmt::format("{}", fmt::join(lacks, ", "));
    if (!basics) row.detail += row.detail.empty() ? "needs bpf() permission, headers and tracefs" : "; needs bpf() permission, headers and tracefs";
    r.can_run = r.can_run || row.ok;
    r.commands.push_back(std::move(row));
  }

  // trace: whatever of its hop list this kernel can attach.
  DoctorRow trace{"trace", "ready", "", true};
  try {
    const TracePlan plan = plan_trace(default_probe_list(), HopSelection::everything(), kernel, kallsyms);
    trace.detail = fmt::format("{} hops", plan.hops.size());
    if (!plan.missing.empty()) {
      trace.status = "partial";
      trace.detail += fmt::format("; lacks {}", describe_missing(plan.missing));
    }
  } catch (const std::exception& e) {
    trace.status = "unusable";
    trace.ok = false;
    trace.detail = e.what();
  }
  if (!basics) {
    trace.status = "unusable";
    trace.ok = false;
  }
  r.can_run = r.can_run || trace.ok;
  r.commands.push_back(std::move(trace));

  // rst: kprobes give the callers; the tracepoints alone give the reasons.
  DoctorRow rst{"rst", "ready", "kprobes on tcp_v4/v6_send_reset, tcp_send_active_reset, nf_send_reset, tcp_reset", true};
  if (!kernel.has_kprobes) {
    const bool tp = kernel.has_tracepoint("tcp", "tcp_send_reset");
    rst.status = tp ? "partial" : "unusable";
    rst.ok = tp;
    rst.detail = tp ? "tracepoints tcp:tcp_send_reset/tcp_receive_reset only (no kprobes: no netfilter REJECT source)"
                    : "needs kprobes or the tcp:tcp_send_reset tracepoint";
  }
  if (!basics) {
    rst.status = "unusable";
    rst.ok = false;
  }
  r.can_run = r.can_run || rst.ok;
  r.commands.push_back(std::move(rst));
  return r;
}

std::string format_doctor_report(const KernelInfo& kernel, const DoctorReport& report) {
  std::string out = fmt::format("kernel {} (version code {}{})\n\n", kernel.release,
                                format_version_code(kernel.version_code),
                                kernel.has_kernel_config ? ", /proc/config.gz present" : "");
  fmt::format_to(std::back_inserter(out), "{:<24} {:<9} {}\n", "CHECK", "STATUS", "DETAIL");
  for (const auto& row : report.facts)
    fmt::format_to(std::back_inserter(out), "{:<24} {:<9} {}\n", row.check, row.status, row.detail);
  fmt::format_to(std::back_inserter(out), "\n{:<24} {:<9} {}\n", "COMMAND", "STATUS", "PROBES");
  for (const auto& row : report.commands)
    fmt::format_to(std::back_inserter(out), "{:<24} {:<9} {}\n", row.check, row.status, row.detail);
  if (!report.can_run) out += "\nnothing can run here: fix the rows marked no/unusable above\n";
  return out;
}

int run_doctor(const DoctorOptions& options) {
  const KernelInfo kernel = probe_kernel();
  Kallsyms kallsyms;
  try {
    kallsyms = Kallsyms::load();
  } catch (const std::exception&) {
  }
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
  DoctorReport report = build_doctor_report(kernel, kallsyms, headers_ok, headers_status, headers_detail);

  if (options.compile && headers_ok && kernel.bpf.allowed && kernel.has_tracepoint("skb", "kfree_skb")) {
    DoctorRow row{"compile drop.bpf.c", "ok", "", true};
    const auto start = std::chrono::steady_clock::now();
    try {
      const auto format = read_tracepoint_format(kernel.tracepoint_format("skb", "kfree_skb"));
      BpfProgram program({"drop.bpf.c", drop_program_cflags(DropOptions{}, format), choice, {}});
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      row.detail = fmt::format("{:.1f} s in header mode {}", took.count(), choice.mode);
    } catch (const std::exception& e) {
      row.status = "failed";
      row.ok = false;
      row.detail = std::string(e.what()).substr(0, 400);
      report.can_run = false;
      for (auto& command : report.commands) command.status = "unusable";
    }
    report.facts.insert(report.facts.begin() + 4, row);
  }
  std::fputs(format_doctor_report(kernel, report).c_str(), stdout);
  return report.can_run ? 0 : kExitFailure;
}

}  // namespace skbtrail
