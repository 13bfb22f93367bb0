#include "runner/tools/rst/rst.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "resources/bundled.h"
#include "runner/common/errors.h"
#include "runner/data/rules.h"
#include "runner/kernel/abi.h"
#include "runner/session/run.h"
#include "runner/tools/options.h"
#include "runner/tools/rst/rst_reporter.h"

namespace skbtrail {

namespace {

constexpr int kStackEntries = 4096;

// The RST sources in preference order, each with its tracepoint fallback.
// Kprobes come first (they give the caller); the tracepoints stand in on
// kernels without kprobes. tcp:tcp_send_reset covers the three sending
// functions (the first three), so it is added only when none of them can
// attach; tcp:tcp_receive_reset stands in for tcp_reset (the fourth).
std::vector<ProbeSpec> rst_sources() {
  return {
      {"tcp_v4_send_reset", {{ProbeKind::Kprobe, "tcp_v4_send_reset", "skbtrail_tcp_v4_send_reset"}}, false},
      {"tcp_v6_send_reset", {{ProbeKind::Kprobe, "tcp_v6_send_reset", "skbtrail_tcp_v6_send_reset"}}, false},
      {"tcp_send_active_reset", {{ProbeKind::Kprobe, "tcp_send_active_reset", "skbtrail_tcp_send_active_reset"}}, false},
      {"tcp_reset",
       {{ProbeKind::Kprobe, "tcp_reset", "skbtrail_tcp_reset"},
        {ProbeKind::Tracepoint, "tcp:tcp_receive_reset", "skbtrail_tp_tcp_receive_reset"}},
       false},
      // nf_send_reset lives in the nf_reject_ipv4 module: when it is not
      // loaded the attach layer reports it missing and the rest runs.
      {"nf_send_reset", {{ProbeKind::Kprobe, "nf_send_reset", "skbtrail_nf_send_reset"}}, false},
      {"nf_send_reset6", {{ProbeKind::Kprobe, "nf_send_reset6", "skbtrail_nf_send_reset6"}}, false},
  };
}

ReporterFactory rst_reporter(const RstOptions& options, const RuleSet& rules, std::shared_ptr<PcapngWriter> pcap) {
  return [&options, &rules, pcap](const SessionContext& c) {
    ValueNames reasons;
    if (const auto* format = c.facts.tracepoint_format("tcp", "tcp_send_reset"))
      if (const auto* table = format->symbolic_for("reason")) reasons = ValueNames(*table);
    auto reporter = std::make_unique<RstReporter>(c.names, rules, reasons, options.stack, options.summary);
    if (pcap) reporter->capture_to(pcap, options.pcap.snaplen);
    if (options.blame) {
      std::vector<uint64_t> namespaces{0};
      if (options.filter.netns) namespaces.push_back(*options.filter.netns);
      reporter->blame_with(std::make_unique<BlameQueue>(namespaces, "rst"));
    }
    return reporter;
  };
}

// What shapes rst's program, as a user reads it.
std::string program_options(const RstOptions& o) {
  return fmt::format("filter {}{}", describe(o.filter),
                     o.pcap.path.empty() ? "" : fmt::format(", --snaplen {}", o.pcap.bpf_snaplen()));
}

int run_rst(const RstOptions& options) {
  const RuleSet rules = RuleSet::load("rst.rules", options.rule_files);
  // Created before anything is compiled or attached: a bad path fails first.
  std::shared_ptr<PcapngWriter> pcap;
  if (!options.pcap.path.empty())
    pcap = std::make_shared<PcapngWriter>(options.pcap.path, options.pcap.snaplen, "skbtrail rst");
  return run_tool({"rst", &options.run, program_options(options),
                   [&](const KernelFacts& facts) { return rst_plan(facts, options); },
                   {&options.run, describe(options.filter), {}, ""}, rst_reporter(options, rules, pcap)});
}

class RstTool : public Tool {
 public:
  std::string_view name() const override { return "rst"; }
  std::string_view summary() const override {
    return "every TCP RST sent or received, with its cause, evidence and advice";
  }
  bool traces() const override { return true; }
  Plan plan_of(const Command& command, const KernelFacts& facts) const override { return rst_plan(facts, command.get<RstOptions>()); }
  std::string program_options_of(const Command& command) const override { return program_options(command.get<RstOptions>()); }
  const RunOptions* run_options_in(const Command& command) const override { return &command.get<RstOptions>().run; }
  Plan default_plan(const KernelFacts& facts) const override { return rst_plan(facts, RstOptions{}); }
  std::vector<Plan> check_plans(const KernelFacts& facts) const override {
    RstOptions filtered;
    filtered.filter = widest_filter(true);
    Plan widest = rst_plan(facts, filtered);
    widest.label += " (every filter)";
    std::vector<Plan> plans{rst_plan(facts, RstOptions{}), std::move(widest)};
    if (abi::helpers_take_map_values(facts.abi())) {  // --pcap needs 4.11 (pcap_cflags)
      RstOptions pcap;
      pcap.pcap.path = "check.pcapng";
      pcap.pcap.snaplen = 4096;
      plans.push_back(rst_plan(facts, pcap));
      plans.back().label += " --pcap";
    }
    return plans;
  }

  Command parse(const std::vector<std::string>& args) const override {
    po::options_description rst("rst");
    rst.add_options()
        ("rules", po::value<std::vector<std::string>>()->value_name("FILE"), "more rules, tried before the built-in ones")
        ("stack", po::bool_switch(), "print the whole kernel stack of every RST")
        ("no-summary", po::bool_switch(), "no analysis result at exit")
        ("no-blame", po::bool_switch(), "do not read the ruleset's counters to name the REJECT rule of a RST");
    po::options_description all;
    all.add(filter_options())
        .add(device_options("only RSTs answering a segment that came in on DEV (socket resets: the device of "
                            "the socket's route)",
                            "only RSTs answering a segment with any of these flags (S: answers to SYNs); socket "
                            "resets match R"))
        .add(rst)
        .add(pcap_options())
        .add(run_options())
        .add(kernel_options());
    const auto vm = parse_options("rst", args, all);
    if (vm.count("help")) {
      std::string causes = "\ncauses it knows (scripts/rst.rules, first match wins):\n";
      const RuleSet built_in = RuleSet::load("rst.rules", {});  // named: a temporary would die before the loop
      for (const auto& rule : built_in.rules())
        causes += fmt::format("  [{}] {}: {}\n", rule.name, rule.level, rule.cause.substr(0, rule.cause.find(':')));
      return Command::show(help_text("usage: skbtrail rst [OPTIONS]\n\nEvery TCP RST this host sends or receives "
                                "(tcp_v4/v6_send_reset, tcp_send_active_reset, nf_send_reset for REJECT, tcp_reset; "
                                "the tcp:tcp_send_reset/tcp_receive_reset tracepoints where kprobes are missing), "
                                "with tuple, netns, TCP state, process and stack, classified into a cause with its "
                                "evidence and advice.",
                                all, causes +
                      "\nexamples:\n  skbtrail rst                          every RST, classified\n"
                      "  skbtrail rst -P 8080 --stack          RSTs on port 8080 with their stacks\n"
                      "  skbtrail rst --json -c 1 --dport 9    the first RST answering port 9, as JSON\n"
                      "  skbtrail rst --rules my.rules         your own causes first\n"
                      "  skbtrail rst --symbolize              the key frame with file:line\n"
                      "  skbtrail rst --tcp-flags S            only RSTs answering SYNs (closed ports, REJECT)\n"
                      "  skbtrail rst --ifname eth0            only RSTs for segments that came in on eth0\n"
                      "  skbtrail rst --pcap rst.pcapng        also the segments the RSTs answer, for Wireshark\n"));
    }
    RstOptions o;
    o.filter = packet_filter(vm);
    apply_device_options(vm, o.filter);
    o.run = run_options_of(vm);
    if (vm.count("rules")) o.rule_files = vm["rules"].as<std::vector<std::string>>();
    o.stack = vm["stack"].as<bool>();
    o.summary = !vm["no-summary"].as<bool>();
    o.blame = !vm["no-blame"].as<bool>();
    o.pcap = pcap_options_of(vm);
    return Command::run(std::move(o), &run_rst);
  }
};

}  // namespace

Plan rst_plan(const KernelFacts& facts, const RstOptions& options) {
  Plan plan = start_plan(facts, "rst", "rst.bpf.c");
  plan.perf_tables = {"rst_events"};
  std::vector<std::string> sources;  // output slot = the RST source
#define SKBTRAIL_RST_SOURCE_NAME(name, value, text) sources.push_back(text);
  SKBTRAIL_RST_SOURCES(SKBTRAIL_RST_SOURCE_NAME)
#undef SKBTRAIL_RST_SOURCE_NAME
  count_output_slots(plan, facts, std::move(sources));
  plan.probes = rst_sources();
  auto usable = [&](const ProbeSpec& spec) { return !unavailable_reason(spec.choices.front(), facts); };
  const bool any_sender = std::any_of(plan.probes.begin(), plan.probes.begin() + 3, usable);
  const bool tp_send = !any_sender && facts.has_tracepoint("tcp", "tcp_send_reset");
  const bool tp_receive = !usable(plan.probes[3]) && facts.has_tracepoint("tcp", "tcp_receive_reset");
  // The conntrack evidence needs struct nf_conn: real headers (in BTF mode
  // it may live in a module's BTF, which the generated tree does not hold).
  // nf_ct_l4proto_log_invalid came in 4.14: on the running kernel, is it
  // there (nf_conntrack loaded); on a described one, by version.
  const bool want_conntrack = facts.has_kprobes() && !facts.headers().btf &&
                              (facts.is_running() ? facts.has_function("nf_ct_l4proto_log_invalid")
                                                  : abi::has_ct_log_invalid(facts.abi()));

  auto& flags = plan.cflags;
  for (auto& flag : filter_cflags(options.filter)) flags.push_back(flag);
  for (auto& flag : pcap_cflags(facts, options.pcap)) flags.push_back(flag);
  plan.constants = late_constants(options.filter);
  // Without stack maps (< 4.6) the BPF side records the kprobe's caller instead.
  if (facts.has_stack_maps()) {
    flags.push_back(fmt::format("-DSKBTRAIL_STACK_ENTRIES={}", kStackEntries));
    plan.stack_table = "rst_stacks";
  }
  const abi::Kernel k = facts.abi();
  for (const auto& f : abi::rst_reason_cflags(k, facts.function_arity("tcp_send_active_reset"))) flags.push_back(f);
  for (const auto& f : abi::nf_send_reset_cflags(k)) flags.push_back(f);
  if (tp_send) {
    flags.push_back("-DSKBTRAIL_WANT_TP_SEND_RESET=1");
    const auto* format = facts.tracepoint_format("tcp", "tcp_send_reset");
    if (format && format->field("reason")) flags.push_back("-DSKBTRAIL_TP_SEND_RESET_REASON=1");
    plan.probes.push_back(
        {"tcp:tcp_send_reset", {{ProbeKind::Tracepoint, "tcp:tcp_send_reset", "skbtrail_tp_tcp_send_reset"}}, false});
    add_tracepoint_struct(plan, facts, "tcp", "tcp_send_reset", {"skbaddr", "skaddr", "reason"});
  }
  if (tp_receive) {
    flags.push_back("-DSKBTRAIL_WANT_TP_RECEIVE_RESET=1");
    add_tracepoint_struct(plan, facts, "tcp", "tcp_receive_reset", {"skaddr"});
  }
  if (want_conntrack) {
    // Not a RST source: evidence for the ones answering conntrack-INVALID segments.
    flags.push_back("-DSKBTRAIL_CT_INVALID=1");
    for (const auto& f : abi::ct_log_invalid_cflags(k)) flags.push_back(f);
    plan.probes.push_back({"nf_ct_l4proto_log_invalid",
                           {{ProbeKind::Kprobe, "nf_ct_l4proto_log_invalid", "skbtrail_ct_log_invalid"}},
                           false});
  }
  return plan;
}

const Tool& rst_tool() {
  static const RstTool tool;
  return tool;
}

}  // namespace skbtrail
