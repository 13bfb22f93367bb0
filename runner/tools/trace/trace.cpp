#include "runner/tools/trace/trace.h"

#include <arpa/inet.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "resources/bundled.h"
#include "runner/common/errors.h"
#include "runner/kernel/abi.h"
#include "runner/session/run.h"
#include "runner/tools/options.h"
#include "runner/tools/trace/trace_reporter.h"

namespace skbtrail {

std::string trace_handlers(const TracePlan& plan) {
  std::string out;
  for (const auto& hop : plan.hops) {
    const auto id = hop.id;
    if (hop.spec.tracepoint) {
      if (hop.spec.name == "tp:skb:kfree_skb") continue;  // in trace.bpf.c, it needs the reason fields
      const char* kind = hop.spec.name == "tp:skb:consume_skb" ? "SKBTRAIL_TRACE_FREE" : "SKBTRAIL_TRACE_HOP";
      fmt::format_to(std::back_inserter(out),
                     "int skbtrail_tp_{0}(struct skbtrail_tp_{1}_{2} *args) {{ return skbtrail_trace_skb(args, (struct "
                     "sk_buff *)args->{3}, {0}, {4}); }}\n",
                     id, hop.spec.category(), hop.spec.event(), hop.spec.skb_field, kind);
    } else if (hop.pair != NetfilterPair::None) {
      const char* half = hop.pair == NetfilterPair::Hook       ? "nf_hook_slow_entry"
                         : hop.pair == NetfilterPair::Iptables ? "ipt_entry"
                                                               : "nft_entry";
      const char* back = hop.pair == NetfilterPair::Hook       ? "nf_return"
                         : hop.pair == NetfilterPair::Iptables ? "ipt_return"
                                                               : "nft_return";
      fmt::format_to(std::back_inserter(out),
                     "int skbtrail_hop_{0}(struct pt_regs *ctx) {{ return skbtrail_{1}(ctx, {0}); }}\n"
                     "int skbtrail_ret_{0}(struct pt_regs *ctx) {{ return skbtrail_{2}(ctx); }}\n",
                     id, half, back);
    } else if (hop.spec.layer == "drop" || hop.spec.layer == "free") {
      // kfree_skb / consume_skb as kprobes on kernels without BPF on tracepoints.
      fmt::format_to(std::back_inserter(out),
                     "int skbtrail_hop_{0}(struct pt_regs *ctx) {{ return skbtrail_trace_kprobe_free(ctx, {0}, {1}); }}\n",
                     id, hop.spec.layer == "drop" ? "SKBTRAIL_TRACE_DROP" : "SKBTRAIL_TRACE_FREE");
    } else {
      fmt::format_to(std::back_inserter(out),
                     "int skbtrail_hop_{0}(struct pt_regs *ctx) {{ return skbtrail_trace_skb(ctx, (struct sk_buff "
                     "*)PT_REGS_PARM{1}(ctx), {0}, SKBTRAIL_TRACE_HOP); }}\n",
                     id, hop.spec.skb_arg);
    }
  }
  return out;
}

namespace {

std::vector<ProbeSpec> trace_probe_specs(const TracePlan& plan) {
  std::vector<ProbeSpec> specs;
  for (const auto& hop : plan.hops) {
    if (hop.spec.tracepoint) {
      const std::string target = hop.spec.category() + ":" + hop.spec.event();
      const std::string handler =
          hop.spec.name == "tp:skb:kfree_skb" ? "skbtrail_tp_kfree_skb" : fmt::format("skbtrail_tp_{}", hop.id);
      specs.push_back({hop.spec.name, {{ProbeKind::Tracepoint, target, handler}}, false});
      continue;
    }
    ProbeSpec spec{hop.function, {{ProbeKind::Kprobe, hop.function, fmt::format("skbtrail_hop_{}", hop.id)}}, false};
    for (const auto& other : hop.fallbacks)
      spec.choices.push_back({ProbeKind::Kprobe, other, fmt::format("skbtrail_hop_{}", hop.id)});
    specs.push_back(std::move(spec));
    if (hop.pair != NetfilterPair::None)
      specs.push_back({hop.function + " (return)",
                       {{ProbeKind::Kretprobe, hop.function, fmt::format("skbtrail_ret_{}", hop.id)}},
                       false});
  }
  return specs;
}

constexpr int kStackEntries = 8192;

constexpr const char* kTraceExamples = R"(
examples:
  skbtrail trace --proto icmp -H 10.0.0.2 --icmpid 22    one ping's path (mytracer: --proto=icmp -H .. --icmpid 22)
  skbtrail trace --proto tcp -H 10.0.0.2 -P 80           a TCP flow's path (mytracer: --proto=tcp -H .. -P 80)
  skbtrail trace --proto udp --saddr 10.0.0.1 --dport 53 -T   UDP from one host to port 53, with dates
  skbtrail trace --proto tcp --daddr 10.0.0.2 --sport 40000 -t   seconds since boot instead of the clock
  skbtrail trace --proto tcp -H 10.0.0.2 --netfilter     + table/chain verdicts: inet filter input DROP (nftables),
                                                         2.filter.OUTPUT.DROP (iptables-legacy); --iptable is the same
  skbtrail trace --proto tcp -P 8080 --callstack         + the kernel stack of every hop
  skbtrail trace --proto tcp -P 8080 --dropstack         + the stack of drops only
  skbtrail trace -H 10.0.0.2 --keep                      follow matched skbs through NAT until freed
  skbtrail trace -p 1234 -N 4026532290 --explain         one process, one netns, each hop explained
  skbtrail trace --ifname veth0 --tcp-flags SR           SYN or RST segments on veth0
  skbtrail trace --proto icmp6 -H fd00::2 --json -c 20   IPv6 ping, 20 events as JSON lines
  skbtrail trace --proto any -P 53 --duration 30s        DNS over UDP or TCP for 30 s
  skbtrail trace --probes ip_rcv,tcp_v4_rcv --add-probe ip_route_input_noref:arg1
  skbtrail trace --probes @my.probes --exclude nf_hook_slow
  skbtrail trace --list-probes                           the built-in hop list
  mytracer's -t -T -p 1 -P 80 -H 127.0.0.1 --proto=tcp --callstack -N 10000 is the same here.

Columns: [time][netns] ifname dst-MAC packet skb.pkt_type:hop, where packet is
T_FLAGS:src:port->dst:port (TCP), U:src:port->dst:port (UDP) or
I_request/I_reply:src->dst id= seq= (ICMP). nf_hook_slow shows the family,
hook and verdict; ipt_do_table shows pf.table.CHAIN.VERDICT; nft_do_chain shows
the base chain as nft names it, family table chain VERDICT (the family is the
hook's, ipv4/ipv6, before 4.16, whose tables do not keep it); drops show the
reason (5.17+) and location. Functions missing on this kernel are named once
at start and skipped; without kprobes, tracepoint hops stand in.
)";

// What shapes trace's program, as a user reads it.
std::string program_options(const TraceOptions& o) {
  std::string text = fmt::format("filter {}", describe(o.filter));
  if (o.icmp_id) text += fmt::format(", --icmpid {}", *o.icmp_id);
  if (!o.hops.only.empty()) text += fmt::format(", --probes {}", fmt::join(o.hops.only, ","));
  if (!o.probes_file.empty()) text += ", --probes @" + o.probes_file;
  for (const auto& added : o.hops.added) text += ", --add-probe " + added.name;
  if (!o.hops.exclude.empty()) text += fmt::format(", --exclude {}", fmt::join(o.hops.exclude, ","));
  if (o.hops.netfilter) text += ", --netfilter";
  if (o.keep) text += ", --keep";
  if (o.callstack) text += ", --callstack";
  if (o.dropstack) text += ", --dropstack";
  if (!o.pcap.path.empty()) text += fmt::format(", --snaplen {}", o.pcap.bpf_snaplen());
  return text;
}

int run_trace(const TraceOptions& options) {
  const std::vector<HopSpec> list = trace_probe_list(options);
  if (options.list_probes) {
    for (const auto& hop : list) {
      std::string kernels = hop.any_version ? fmt::format("{}-{}", hop.since ? version_text(hop.since) : "",
                                                          hop.until ? version_text(hop.until) : "")
                                            : "";
      if (hop.rhel7) kernels += kernels.empty() ? "rhel7" : ",rhel7";
      std::printf("%-26s %-10s %-14s %s\n", hop.name.c_str(), hop.layer.c_str(), kernels.c_str(),
                  hop.description.c_str());
    }
    return 0;
  }
  // Created before anything is compiled or attached: a bad path fails first.
  std::shared_ptr<PcapngWriter> pcap;
  if (!options.pcap.path.empty())
    pcap = std::make_shared<PcapngWriter>(options.pcap.path, options.pcap.snaplen, "skbtrail trace");
  TracePlan hops;  // of the facts the plan was made with (a bundle's, or this kernel's)
  const RuleSet drop_rules = RuleSet::load("drop.rules", {});  // pseudo-reasons of drops
  auto plan = [&](const KernelFacts& facts) {
    hops = plan_trace(list, options.hops, facts);
    return trace_plan(facts, options, hops);
  };
  return run_tool({"trace", &options.run, program_options(options), plan,
                   {&options.run, describe(options.filter), {}, ""}, [&](const SessionContext& c) {
                     ValueNames reasons;
                     if (const auto* format = c.facts.tracepoint_format("skb", "kfree_skb"))
                       if (const auto* table = format->symbolic_for("reason")) reasons = ValueNames(*table);
                     auto reporter = std::make_unique<TraceReporter>(hops, c.names, reasons, options, &drop_rules);
                     if (pcap) reporter->capture_to(pcap, options.pcap.snaplen);
                     return reporter;
                   }});
}

class TraceTool : public Tool {
 public:
  std::string_view name() const override { return "trace"; }
  std::string_view summary() const override { return "the path of matching packets through the stack, hop by hop"; }
  bool traces() const override { return true; }
  Plan plan_of(const Command& command, const KernelFacts& facts) const override {
    const auto& options = command.get<TraceOptions>();
    return trace_plan(facts, options, plan_trace(trace_probe_list(options), options.hops, facts));
  }
  std::string program_options_of(const Command& command) const override {
    return program_options(command.get<TraceOptions>());
  }
  const RunOptions* run_options_in(const Command& command) const override { return &command.get<TraceOptions>().run; }
  Plan default_plan(const KernelFacts& facts) const override {
    const TraceOptions options;
    return trace_plan(facts, options, plan_trace(trace_probe_list(options), options.hops, facts));
  }
  std::vector<Plan> check_plans(const KernelFacts& facts) const override {
    const TraceOptions plain;
    TraceOptions options;
    options.hops = HopSelection::everything();
    options.keep = true;
    options.callstack = true;
    TraceOptions filtered = options;
    filtered.filter = widest_filter(true);
    filtered.callstack = false;
    filtered.dropstack = true;
    const auto list = trace_probe_list(options);
    Plan widest = trace_plan(facts, filtered, plan_trace(list, filtered.hops, facts));
    widest.label += " (every filter)";
    std::vector<Plan> plans{trace_plan(facts, plain, plan_trace(list, plain.hops, facts)),
                            trace_plan(facts, options, plan_trace(list, options.hops, facts)), std::move(widest)};
    if (abi::helpers_take_map_values(facts.abi())) {  // --pcap needs 4.11 (pcap_cflags)
      TraceOptions pcap = options;
      pcap.pcap.path = "check.pcapng";
      pcap.pcap.snaplen = 4096;
      plans.push_back(trace_plan(facts, pcap, plan_trace(list, pcap.hops, facts)));
    }
    return plans;
  }

  Command parse(const std::vector<std::string>& args) const override {
    po::options_description trace("trace");
    trace.add_options()
        ("icmpid", po::value<std::string>()->value_name("ID"), "only ICMP echo with this id")
        ("netfilter", po::bool_switch(),
         "table/chain verdicts: nftables base chains (nft_do_chain) and iptables-legacy tables (ipt_do_table)")
        ("iptable", po::bool_switch(), "the same as --netfilter (mytracer's name)")
        ("callstack", po::bool_switch(), "kernel stack on every event")
        ("dropstack", po::bool_switch(), "kernel stack on drops")
        ("keep", po::bool_switch(), "follow a matched skb until it is freed (NAT, clones); group events per skb")
        ("explain", po::bool_switch(), "annotate each hop with its layer and what the function does")
        ("time,T", po::bool_switch(), "date and time with microseconds")
        ("timestamp,t", po::bool_switch(), "seconds since boot with microseconds instead of the clock")
        ("probes", po::value<std::string>()->value_name("a,b|@FILE"), "only these hops, or the list in FILE")
        ("add-probe", po::value<std::vector<std::string>>()->value_name("FUNC[:argN]"), "also trace FUNC (skb in argN)")
        ("exclude", po::value<std::string>()->value_name("a,b"), "leave these hops out")
        ("list-probes", po::bool_switch(), "print the hop list and exit");
    po::options_description all;
    all.add(filter_options())
        .add(device_options("only packets on this device", "only TCP segments with any of these flags"))
        .add(trace)
        .add(pcap_options())
        .add(run_options())
        .add(kernel_options());
    const auto vm = parse_options("trace", args, all);
    if (vm.count("help"))
      return Command::show(help_text("usage: skbtrail trace [OPTIONS]\n\nEvery kernel function a matching packet "
                                     "passes, with netfilter verdicts, drops and stacks (mytracer-style).",
                                     all, kTraceExamples));
    TraceOptions o;
    o.filter = packet_filter(vm);
    o.run = run_options_of(vm);
    apply_device_options(vm, o.filter);
    if (vm.count("icmpid")) {
      o.icmp_id = parse_port_option("--icmpid", text_of(vm, "icmpid"));
      if (o.filter.proto == L4Protocol::Tcp || o.filter.proto == L4Protocol::Udp)
        throw UsageError("--icmpid with --proto tcp/udp: nothing can match (use --proto icmp or icmp6)");
    }
    o.hops.netfilter = vm["netfilter"].as<bool>() || vm["iptable"].as<bool>();
    o.callstack = vm["callstack"].as<bool>();
    o.dropstack = vm["dropstack"].as<bool>();
    o.keep = vm["keep"].as<bool>();
    o.explain = vm["explain"].as<bool>();
    o.date = vm["time"].as<bool>();
    o.boot_seconds = vm["timestamp"].as<bool>();
    if (o.date && o.boot_seconds) throw UsageError("-T and -t: choose one clock (-T dates, -t seconds since boot)");
    o.list_probes = vm["list-probes"].as<bool>();
    o.pcap = pcap_options_of(vm);
    if (vm.count("probes")) {
      const std::string probes = text_of(vm, "probes");
      if (probes.starts_with("@")) o.probes_file = probes.substr(1);
      else o.hops.only = split_list(probes);
      if (o.probes_file.empty() && o.hops.only.empty())
        throw UsageError("--probes '': name hops (--probes ip_rcv,tcp_v4_rcv) or a file (--probes @my.probes)");
    }
    if (vm.count("add-probe"))
      for (const auto& added : vm["add-probe"].as<std::vector<std::string>>()) o.hops.added.push_back(parse_added_probe(added));
    if (vm.count("exclude")) o.hops.exclude = split_list(text_of(vm, "exclude"));
    return Command::run(std::move(o), &run_trace);
  }
};

}  // namespace

std::vector<HopSpec> trace_probe_list(const TraceOptions& options) {
  if (options.probes_file.empty()) return default_probe_list();
  std::ifstream in(options.probes_file);
  if (!in)
    throw UsageError(fmt::format("--probes @{}: cannot read the probe list file (check the path)", options.probes_file));
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_probe_list(text, options.probes_file);
}

Plan trace_plan(const KernelFacts& facts, const TraceOptions& options, const TracePlan& hops) {
  Plan plan = start_plan(facts, "trace", "trace.bpf.c");
  plan.source += trace_handlers(hops);
  plan.perf_tables = {"trace_events"};
  std::vector<std::string> slots;  // output slot = the hop (probe_id)
  for (const auto& hop : hops.hops) slots.push_back(hop.spec.tracepoint ? hop.spec.event() : hop.function);
  if (!slots.empty()) plan.cflags.push_back(fmt::format("-DSKBTRAIL_OUTPUT_SLOTS={}", slots.size()));
  count_output_slots(plan, facts, std::move(slots));
  plan.probes = trace_probe_specs(hops);
  plan.limits = hops.missing;
  for (const auto& hop : hops.hops) {
    if (!hop.spec.tracepoint) continue;
    std::vector<std::string> fields = {hop.spec.skb_field};
    if (hop.spec.name == "tp:skb:kfree_skb") fields = {"skbaddr", "location", "reason"};
    add_tracepoint_struct(plan, facts, hop.spec.category(), hop.spec.event(), fields);
  }
  std::string label;
  auto& flags = plan.cflags;
  for (auto& flag : filter_cflags(options.filter)) flags.push_back(flag);
  for (auto& flag : pcap_cflags(facts, options.pcap)) flags.push_back(flag);
  plan.constants = late_constants(options.filter);
  if (options.icmp_id) flags.push_back(fmt::format("-DSKBTRAIL_F_ICMPID={}", htons(*options.icmp_id)));
  if (options.keep) {
    flags.push_back("-DSKBTRAIL_KEEP=1");
    label += " --keep";
  }
  const bool stacks = options.callstack || options.dropstack;
  if (stacks && !facts.has_stack_maps()) {
    // The path without stacks beats no path: run, and say so once.
    plan.limits.emplace_back(options.callstack ? "--callstack (kernel stacks)" : "--dropstack (kernel stacks)",
                             no_stack_maps_reason(facts));
  } else if (stacks) {
    flags.push_back("-DSKBTRAIL_STACKS=1");
    flags.push_back(fmt::format("-DSKBTRAIL_STACK_ENTRIES={}", kStackEntries));
    if (options.callstack) flags.push_back("-DSKBTRAIL_STACK_ALL=1");
    plan.stack_table = "trace_stacks";
    label += options.callstack ? " --callstack" : " --dropstack";
  }
  const auto* kfree = facts.tracepoint_format("skb", "kfree_skb");
  if (kfree && kfree->field("reason")) flags.push_back("-DSKBTRAIL_HAVE_DROP_REASON=1");
  for (const auto& flag : abi::ipt_do_table_cflags(facts.abi())) flags.push_back(flag);
  for (const auto& flag : abi::nf_hook_slow_cflags(facts.abi())) flags.push_back(flag);
  bool netfilter_tables = false;
  for (const auto& hop : hops.hops) {
    if (hop.spec.tracepoint && hop.spec.name == "tp:skb:kfree_skb")
      flags.push_back(fmt::format("-DSKBTRAIL_HOP_KFREE_SKB={}", hop.id));
    if (hop.pair == NetfilterPair::Hook) flags.push_back("-DSKBTRAIL_WANT_NF=1");
    if (hop.pair == NetfilterPair::Iptables) flags.push_back("-DSKBTRAIL_WANT_IPT=1");
    if (hop.pair == NetfilterPair::Nftables) {
      flags.push_back("-DSKBTRAIL_WANT_NFT=1");
      for (const auto& flag : abi::nft_do_chain_cflags(facts.struct_layouts())) flags.push_back(flag);
    }
    if (hop.pair == NetfilterPair::Iptables || hop.pair == NetfilterPair::Nftables) netfilter_tables = true;
  }
  if (netfilter_tables) label = " --netfilter" + label;
  if (!options.pcap.path.empty()) label += " --pcap";
  plan.label = plan.program + label;
  return plan;
}

const Tool& trace_tool() {
  static const TraceTool tool;
  return tool;
}

}  // namespace skbtrail
