#include "runner/tools/drop/drop.h"

#include <memory>

#include <fmt/format.h>

#include "resources/bundled.h"
#include "runner/common/errors.h"
#include "runner/data/rules.h"
#include "runner/kernel/abi.h"
#include "runner/session/run.h"
#include "runner/tools/drop/drop_reporter.h"
#include "runner/tools/options.h"

namespace skbtrail {

namespace {

constexpr int kStackEntries = 4096;

constexpr const char* kDropExamples = R"(
examples:
  skbtrail drop                                all drops on this host
  skbtrail drop --dport 9 -c 1 --json          first drop to port 9, as JSON
  skbtrail drop -H 10.0.0.2 --proto tcp --stack   TCP drops to/from 10.0.0.2, with kernel stacks
  skbtrail drop -N 4026532290 --duration 30s   drops in one network namespace for 30 s
  skbtrail drop --headers btf                  force the BTF-generated headers
  skbtrail drop --diag                         why each drop happened, and what to do; analysis at exit
  skbtrail drop --diag-quiet --rules my.rules  only abnormal drops, with your own rules first
  skbtrail drop --pcap drops.pcapng            also the dropped packets, for Wireshark:
      tshark -r drops.pcapng -T fields -e frame.comment -e ip.src -e tcp.dstport

A netfilter drop names the rule that dropped it (rule blame): the
ruleset's counters (nftables rules with a counter, every iptables rule) are
read before and after the drop, through libnftables and libiptc, at most
once per 100 ms. It says how sure it is: exact, ambiguous (the candidates
listed), no counters (add `counter` to the rule), chain policy.

Drop reasons (5.17+) are named from the kernel's own tracepoint format; on
older kernels the REASON column shows the pseudo-reason the location stands
for (~NO_SOCKET for tcp_v4_rcv, from scripts/drop.rules), or '-'.
Exit: 0 normally, 2 for bad input or a missing prerequisite, 1 on failure.
)";

ValueNames drop_reason_names(const TracepointFormat* format) {
  if (format)
    if (const auto* table = format->symbolic_for("reason")) return ValueNames(*table);
  return {};
}

bool has_drop_reason(const TracepointFormat* format) { return format && format->field("reason"); }

ReporterFactory drop_reporter(const DropOptions& options, const RuleSet& rules,
                              std::shared_ptr<PcapngWriter> pcap) {
  return [&options, &rules, pcap](const SessionContext& c) {
    const TracepointFormat* format = c.facts.tracepoint_format("skb", "kfree_skb");
    auto reporter = std::make_unique<DropReporter>(c.names, drop_reason_names(format), has_drop_reason(format),
                                                   &rules, options.summary);
    if (options.diag) reporter->diagnose_with(&rules, options.diag_quiet);
    if (pcap) reporter->capture_to(pcap, options.pcap.snaplen);
    if (options.blame && options.replay.empty()) {
      std::vector<uint64_t> namespaces{0};
      if (options.filter.netns) namespaces.push_back(*options.filter.netns);
      reporter->blame_with(std::make_unique<BlameQueue>(namespaces, "drop"));
    }
    return reporter;
  };
}

// What shapes drop's program, as a user reads it.
std::string program_options(const DropOptions& o) {
  return fmt::format("filter {}{}{}{}", describe(o.filter), o.stack ? ", --stack" : "", o.diag ? ", --diag" : "",
                     o.pcap.path.empty() ? "" : fmt::format(", --snaplen {}", o.pcap.bpf_snaplen()));
}

int run_drop(const DropOptions& options) {
  const RuleSet rules = RuleSet::load("drop.rules", options.diag ? options.rule_files : std::vector<std::string>{});
  SessionSettings settings{&options.run, describe(options.filter), {}, options.record};
  settings.banner_note = [](const KernelFacts& facts) {
    return has_drop_reason(facts.tracepoint_format("skb", "kfree_skb")) ? "" : ", kernel has no drop reasons";
  };
  // Created before anything is compiled or attached: a bad path fails first.
  std::shared_ptr<PcapngWriter> pcap;
  if (!options.pcap.path.empty())
    pcap = std::make_shared<PcapngWriter>(options.pcap.path, options.pcap.snaplen, "skbtrail drop");
  if (!options.replay.empty())
    return replay_session("drop", options.replay, options.replay_repeat, settings,
                          drop_reporter(options, rules, pcap));
  return run_tool({"drop", &options.run, program_options(options),
                   [&](const KernelFacts& facts) { return drop_plan(facts, options); }, settings,
                   drop_reporter(options, rules, pcap)});
}

class DropTool : public Tool {
 public:
  std::string_view name() const override { return "drop"; }
  std::string_view summary() const override { return "watch packet drops: tuple, drop reason, location, stack"; }
  bool traces() const override { return true; }
  Plan plan_of(const Command& command, const KernelFacts& facts) const override { return drop_plan(facts, command.get<DropOptions>()); }
  std::string program_options_of(const Command& command) const override { return program_options(command.get<DropOptions>()); }
  const RunOptions* run_options_in(const Command& command) const override { return &command.get<DropOptions>().run; }
  Plan default_plan(const KernelFacts& facts) const override { return drop_plan(facts, DropOptions{}); }
  std::vector<Plan> check_plans(const KernelFacts& facts) const override {
    DropOptions diag;
    diag.diag = true;
    diag.stack = true;
    DropOptions filtered = diag;
    filtered.filter = widest_filter(false);
    Plan widest = drop_plan(facts, filtered);
    widest.label += " (every filter)";
    std::vector<Plan> plans{drop_plan(facts, DropOptions{}), drop_plan(facts, diag), std::move(widest)};
    if (abi::helpers_take_map_values(facts.abi())) {
      DropOptions pcap = diag;
      pcap.pcap.path = "check.pcapng";
      pcap.pcap.snaplen = 4096;
      plans.push_back(drop_plan(facts, pcap));
    }
    return plans;
  }

  Command parse(const std::vector<std::string>& args) const override {
    po::options_description drop("drop");
    drop.add_options()
        ("stack", po::bool_switch(), "print the kernel stack of every drop")
        ("no-summary", po::bool_switch(), "no counts by reason and location at exit")
        ("diag", po::bool_switch(), "explain each drop (cause, advice) from scripts/drop.rules; analysis result at exit")
        ("diag-quiet", po::bool_switch(), "like --diag, but print only abnormal (warn/error) drops")
        ("rules", po::value<std::vector<std::string>>()->value_name("FILE"), "more diagnosis rules, tried first")
        ("no-blame", po::bool_switch(), "do not read the ruleset's counters to name the rule of a netfilter drop")
        ("record", po::value<std::string>()->value_name("FILE"), "also write the raw samples to FILE")
        ("replay", po::value<std::string>()->value_name("FILE"), "print a --record file instead of tracing (no kernel)")
        ("replay-repeat", po::value<std::string>()->value_name("N"), "feed the recording N times (benchmarks)");
    po::options_description all;
    all.add(filter_options()).add(drop).add(pcap_options()).add(run_options()).add(kernel_options());
    const auto vm = parse_options("drop", args, all);
    if (vm.count("help"))
      return Command::show(help_text("usage: skbtrail drop [OPTIONS]\n\nEvery packet the kernel drops (skb:kfree_skb), "
                                     "with time, process, netns, device, tuple, TCP flags, drop reason and location.",
                                     all, kDropExamples));
    DropOptions o;
    o.filter = packet_filter(vm);
    o.run = run_options_of(vm);
    o.stack = vm["stack"].as<bool>();
    o.summary = !vm["no-summary"].as<bool>();
    o.diag_quiet = vm["diag-quiet"].as<bool>();
    o.diag = vm["diag"].as<bool>() || o.diag_quiet;
    o.blame = !vm["no-blame"].as<bool>();
    o.pcap = pcap_options_of(vm);
    if (vm.count("rules")) {
      if (!o.diag) throw UsageError("--rules: diagnosis rules need --diag (or --diag-quiet)");
      o.rule_files = vm["rules"].as<std::vector<std::string>>();
    }
    if (vm.count("record")) o.record = text_of(vm, "record");
    if (vm.count("replay")) {
      o.replay = text_of(vm, "replay");
      if (!o.record.empty()) throw UsageError("--record with --replay: a replay has nothing new to record");
      if (!o.filter.empty()) throw UsageError("--replay: filters run in the kernel at record time; record with them");
    }
    if (vm.count("replay-repeat")) {
      if (o.replay.empty()) throw UsageError("--replay-repeat: only with --replay FILE");
      o.replay_repeat = static_cast<uint32_t>(parse_positive("--replay-repeat", text_of(vm, "replay-repeat")));
    }
    return Command::run(std::move(o), &run_drop);
  }
};

}  // namespace

Plan drop_plan(const KernelFacts& facts, const DropOptions& options) {
  Plan plan = start_plan(facts, "drop", "drop.bpf.c");
  plan.perf_tables = {"drop_events"};
  count_output_slots(plan, facts, {"skb:kfree_skb", "kprobe:kfree_skb"});  // drop.bpf.c's SKBTRAIL_DROP_SLOT_*
  for (auto& flag : filter_cflags(options.filter)) plan.cflags.push_back(flag);
  plan.constants = late_constants(options.filter);
  if (has_drop_reason(facts.tracepoint_format("skb", "kfree_skb"))) plan.cflags.push_back("-DSKBTRAIL_HAVE_DROP_REASON=1");
  for (auto& flag : pcap_cflags(facts, options.pcap)) plan.cflags.push_back(flag);

  add_tracepoint_struct(plan, facts, "skb", "kfree_skb", {"skbaddr", "location", "reason"});
  ProbeSpec kfree{"kfree_skb", {{ProbeKind::Tracepoint, "skb:kfree_skb", "skbtrail_tp_kfree_skb"}}, true};
  // No BPF on tracepoints (before 4.7): kfree_skb itself as a kprobe.
  if (!facts.has_bpf_tracepoints() && facts.has_kprobes()) {
    kfree.choices.push_back({ProbeKind::Kprobe, "kfree_skb", "skbtrail_kprobe_kfree_skb"});
    plan.cflags.push_back("-DSKBTRAIL_KFREE_KPROBE=1");
    plan.never_loaded.insert("skbtrail_tp_kfree_skb");
  }
  plan.probes.push_back(kfree);
  std::string label;
  if (options.diag) {
    label += " --diag";
    // --diag names the netfilter chain of a drop where kprobes exist.
    const ProbeTarget nf_enter{ProbeKind::Kprobe, "nf_hook_slow", "skbtrail_nf_hook_slow_enter"};
    if (const auto why = unavailable_reason(nf_enter, facts)) {
      plan.limits.emplace_back("nf_hook_slow (the netfilter chain of a drop)", *why);
    } else {
      plan.cflags.push_back("-DSKBTRAIL_NF_CONTEXT=1");
      for (auto& flag : abi::nf_hook_slow_cflags(facts.abi())) plan.cflags.push_back(flag);
      plan.probes.push_back({"nf_hook_slow", {nf_enter}, false});
      plan.probes.push_back(
          {"nf_hook_slow (return)", {{ProbeKind::Kretprobe, "nf_hook_slow", "skbtrail_nf_hook_slow_return"}}, false});
    }
  }
  if (options.stack && !facts.has_stack_maps()) {
    // Drops without their stacks beat no drops: run, and say so once.
    plan.limits.emplace_back("--stack (kernel stacks)", no_stack_maps_reason(facts));
  } else if (options.stack) {
    label += " --stack";
    plan.cflags.push_back("-DSKBTRAIL_WANT_STACK=1");
    plan.cflags.push_back(fmt::format("-DSKBTRAIL_STACK_ENTRIES={}", kStackEntries));
    plan.stack_table = "drop_stacks";
  }
  if (!options.pcap.path.empty()) label += " --pcap";
  plan.label = plan.program + label;
  return plan;
}

const Tool& drop_tool() {
  static const DropTool tool;
  return tool;
}

}  // namespace skbtrail
