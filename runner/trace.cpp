#include "runner/trace.h"

#include <arpa/inet.h>
#include <bcc/BPF.h>
#include <bcc/libbpf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "programs/bundled.h"
#include "runner/bpf_program.h"
#include "runner/bpf_stats.h"
#include "runner/errors.h"
#include "runner/event_loop.h"
#include "runner/kallsyms.h"
#include "runner/stacks.h"
#include "symbolize/kernel_symbols.h"

namespace skbtrail {

namespace {
constexpr int kStackEntries = 8192;
}  // namespace

std::vector<std::string> trace_program_cflags(const TraceOptions& options, const TracePlan& plan,
                                              const KernelInfo& kernel, bool kfree_has_reason) {
  std::vector<std::string> flags = filter_cflags(options.filter);
  if (options.icmp_id) flags.push_back(fmt::format("-DSKBTRAIL_F_ICMPID={}", htons(*options.icmp_id)));
  if (options.keep) flags.push_back("-DSKBTRAIL_KEEP=1");
  if (options.callstack || options.dropstack) {
    flags.push_back("-DSKBTRAIL_STACKS=1");
    flags.push_back(fmt::format("-DSKBTRAIL_STACK_ENTRIES={}", kStackEntries));
    if (options.callstack) flags.push_back("-DSKBTRAIL_STACK_ALL=1");
  }
  if (kfree_has_reason) flags.push_back("-DSKBTRAIL_HAVE_DROP_REASON=1");
  const uint32_t v = kernel.version_code;
  if (v >= kernel_version(5, 16, 0)) flags.push_back("-DSKBTRAIL_IPT_ARGS_PRIV=1");
  else if (v >= kernel_version(4, 4, 0)) flags.push_back("-DSKBTRAIL_IPT_ARGS_STATE=1");
  else if (v >= kernel_version(4, 1, 0)) flags.push_back("-DSKBTRAIL_IPT_ARGS_HOOK_STATE=1");
  if (v && v < kernel_version(4, 1, 0)) flags.push_back("-DSKBTRAIL_NF_ARGS_LEGACY=1");
  for (const auto& hop : plan.hops) {
    if (hop.spec.tracepoint && hop.spec.name == "tp:skb:kfree_skb")
      flags.push_back(fmt::format("-DSKBTRAIL_HOP_KFREE_SKB={}", hop.id));
    if (hop.special_nf) flags.push_back("-DSKBTRAIL_WANT_NF=1");
    if (hop.special_ipt) flags.push_back("-DSKBTRAIL_WANT_IPT=1");
  }
  return flags;
}

std::string trace_handlers(const TracePlan& plan) {
  std::string out;
  for (const auto& hop : plan.hops) {
    const auto id = hop.id;
    if (hop.spec.tracepoint) {
      if (hop.spec.name == "tp:skb:kfree_skb") continue;  // in trace.bpf.c, it needs the reason fields
      const char* kind = hop.spec.name == "tp:skb:consume_skb" ? "SKBTRAIL_TRACE_FREE" : "SKBTRAIL_TRACE_HOP";
      fmt::format_to(std::back_inserter(out),
                     "TRACEPOINT_PROBE({}, {}) {{ return skbtrail_trace_skb(args, (struct sk_buff *)args->{}, {}, {}); }}\n",
                     hop.spec.category(), hop.spec.event(), hop.spec.skb_field, id, kind);
    } else if (hop.special_nf || hop.special_ipt) {
      fmt::format_to(std::back_inserter(out),
                     "int skbtrail_hop_{0}(struct pt_regs *ctx) {{ return {1}(ctx, {0}); }}\n"
                     "int skbtrail_ret_{0}(struct pt_regs *ctx) {{ return {2}(ctx); }}\n",
                     id, hop.special_nf ? "skbtrail_nf_hook_slow_entry" : "skbtrail_ipt_entry",
                     hop.special_nf ? "skbtrail_nf_return" : "skbtrail_ipt_return");
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

std::vector<ProbeSpec> trace_probe_specs(const TracePlan& plan) {
  std::vector<ProbeSpec> specs;
  for (const auto& hop : plan.hops) {
    if (hop.spec.tracepoint) {
      const std::string target = hop.spec.category() + ":" + hop.spec.event();
      specs.push_back({hop.spec.name,
                       {{ProbeKind::Tracepoint, target,
                         fmt::format("tracepoint__{}__{}", hop.spec.category(), hop.spec.event())}},
                       false});
      continue;
    }
    specs.push_back(
        {hop.function, {{ProbeKind::Kprobe, hop.function, fmt::format("skbtrail_hop_{}", hop.id)}}, false});
    if (hop.special_nf || hop.special_ipt)
      specs.push_back({hop.function + " (return)",
                       {{ProbeKind::Kretprobe, hop.function, fmt::format("skbtrail_ret_{}", hop.id)}},
                       false});
  }
  return specs;
}

bool decode_trace_event(std::span<const uint8_t> sample, skbtrail_trace_event& event) {
  if (sample.size() < sizeof(event)) return false;
  std::memcpy(&event, sample.data(), sizeof(event));
  return true;
}

TraceReporter::TraceReporter(const TracePlan& plan, const AddressNamer& names, ValueNames drop_reasons,
                             MonotonicToWall clock, const TraceOptions& options)
    : plan_(plan), names_(names), drop_reasons_(std::move(drop_reasons)), clock_(clock), options_(options) {}

std::string TraceReporter::packet_info(const skbtrail_packet& pkt) {
  const bool v6 = pkt.l3_proto == 0x86dd;
  auto endpoint = [&](bool source) {
    const std::string address = packet_address(pkt, source);
    return v6 ? fmt::format("[{}]:{}", address, packet_port(pkt, source))
              : fmt::format("{}:{}", address, packet_port(pkt, source));
  };
  switch (pkt.l4_proto) {
    case 6: {
      std::string flags = tcp_flags_text(pkt.tcp_flags);
      return fmt::format("T_{}:{}->{}", flags.empty() ? "NONE" : flags, endpoint(true), endpoint(false));
    }
    case 17: return fmt::format("U:{}->{}", endpoint(true), endpoint(false));
    case 1:
    case 58: {
      const bool request = pkt.icmp_type == (pkt.l4_proto == 1 ? 8 : 128);
      const bool reply = pkt.icmp_type == (pkt.l4_proto == 1 ? 0 : 129);
      std::string what = request ? "request" : reply ? "reply" : fmt::format("type {} code {}", pkt.icmp_type, pkt.icmp_code);
      std::string ids = (request || reply) ? fmt::format(" id={} seq={}", ntohs(pkt.icmp_id), ntohs(pkt.icmp_seq)) : "";
      return fmt::format("I_{}:{}->{}{}", what, packet_address(pkt, true), packet_address(pkt, false), ids);
    }
    default: break;
  }
  if (pkt.l3_proto == 0x0800 || pkt.l3_proto == 0x86dd)
    return fmt::format("{}:{}->{} proto {}", v6 ? "IPv6" : "IPv4", packet_address(pkt, true), packet_address(pkt, false),
                       pkt.l4_proto);
  return "-";
}

std::string TraceReporter::netfilter_hook_name(uint8_t hook) {
  static constexpr const char* kNames[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  return hook < 5 ? kNames[hook] : fmt::format("hook{}", hook);
}

std::string TraceReporter::netfilter_family_name(uint8_t pf) {
  switch (pf) {
    case 2: return "ipv4";
    case 10: return "ipv6";
    case 3: return "arp";
    case 7: return "bridge";
    case 1: return "inet";
    case 5: return "netdev";
    default: return fmt::format("pf{}", pf);
  }
}

std::string TraceReporter::iptables_verdict_name(int verdict) {
  static constexpr const char* kNames[] = {"DROP", "ACCEPT", "STOLEN", "QUEUE", "REPEAT", "STOP"};
  return verdict >= 0 && verdict < 6 ? kNames[verdict] : fmt::format("VERDICT{}", verdict);
}

std::string TraceReporter::hop_text(const skbtrail_trace_event& ev) const {
  const PlannedHop* hop = ev.probe_id < plan_.hops.size() ? &plan_.hops[ev.probe_id] : nullptr;
  const std::string name = hop ? (hop->spec.tracepoint ? hop->spec.event() : hop->function) : "?";
  switch (ev.kind) {
    case SKBTRAIL_TRACE_DROP: {
      const std::string reason = drop_reasons_.size() ? drop_reasons_.name_or_number(ev.reason) : std::string();
      return fmt::format("{} {}at {} (packet dropped)", name, reason.empty() ? "" : reason + " ",
                         names_.describe(ev.location));
    }
    case SKBTRAIL_TRACE_NF: {
      std::string verdict = ev.verdict == 1   ? "ACCEPT"
                            : ev.verdict == -1 ? "NF_DROP (packet dropped by netfilter)"
                            : ev.verdict < 0   ? fmt::format("NF_DROP errno {} (packet dropped by netfilter)", -ev.verdict)
                                               : "STOLEN/QUEUED";
      return fmt::format("{} {} {} {}", name, netfilter_family_name(ev.nf_pf), netfilter_hook_name(ev.nf_hook), verdict);
    }
    case SKBTRAIL_TRACE_IPT:
      return fmt::format("{} {}.{}.{}.{}", name, ev.nf_pf, fixed_string(ev.table, sizeof(ev.table)),
                         netfilter_hook_name(ev.nf_hook), iptables_verdict_name(ev.verdict));
    default: return name;
  }
}

void TraceReporter::append_event(std::string& out, const skbtrail_trace_event& ev, std::span<const uint64_t> stack) {
  ++events_;
  const PlannedHop* hop = ev.probe_id < plan_.hops.size() ? &plan_.hops[ev.probe_id] : nullptr;
  const std::string_view ifname = fixed_string(ev.ifname, sizeof(ev.ifname));
  const std::string dmac = fmt::format("{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", ev.dmac[0], ev.dmac[1], ev.dmac[2],
                                       ev.dmac[3], ev.dmac[4], ev.dmac[5]);
  const std::string text = hop_text(ev);
  if (!options_.run.json) {
    if (options_.keep && ev.skbaddr != last_skb_)
      fmt::format_to(std::back_inserter(out), "--- skb {:x} ---\n", ev.skbaddr);
    last_skb_ = ev.skbaddr;
    std::string time = options_.boot_seconds ? fmt::format("{}.{:06}", ev.ts_ns / 1'000'000'000, ev.ts_ns % 1'000'000'000 / 1000)
                       : options_.date       ? clock_.iso8601(ev.ts_ns)
                                             : clock_.time_of_day(ev.ts_ns);
    if (options_.date) {  // "2026-11-22 08:41:02.123456", as mytracer's -T
      if (!time.empty() && time.back() == 'Z') time.pop_back();
      std::replace(time.begin(), time.end(), 'T', ' ');
    }
    fmt::format_to(std::back_inserter(out), "[{}][{}] {:<12} {} {} {:x}.{}:{}", time, ev.netns,
                   ifname.empty() ? "nil" : ifname, dmac, packet_info(ev.pkt), ev.skbaddr, ev.pkt_type, text);
    if (options_.explain && hop)
      fmt::format_to(std::back_inserter(out), "  # [{}] {}", hop->spec.layer, hop->spec.description);
    out += '\n';
    append_stack_text(out, names_, stack);
    return;
  }
  out += "{\"type\":\"trace\",\"time\":";
  append_json_string(out, clock_.iso8601(ev.ts_ns));
  fmt::format_to(std::back_inserter(out), ",\"ts_ns\":{},\"netns\":{},\"ifname\":", ev.ts_ns, ev.netns);
  append_json_string(out, ifname);
  fmt::format_to(std::back_inserter(out), ",\"dmac\":\"{}\",\"skb\":\"0x{:x}\",\"pkt_type\":{},\"hop\":", dmac,
                 ev.skbaddr, ev.pkt_type);
  append_json_string(out, hop ? (hop->spec.tracepoint ? hop->spec.event() : hop->function) : "?");
  if (hop) {
    out += ",\"layer\":";
    append_json_string(out, hop->spec.layer);
  }
  out += ",\"packet\":";
  append_json_string(out, packet_info(ev.pkt));
  append_json_packet(out, ev.pkt);
  if (ev.kind == SKBTRAIL_TRACE_NF || ev.kind == SKBTRAIL_TRACE_IPT || ev.kind == SKBTRAIL_TRACE_DROP) {
    out += ",\"detail\":";
    append_json_string(out, text);
  }
  if (ev.kind == SKBTRAIL_TRACE_DROP) {
    out += ",\"location\":";
    append_json_string(out, names_.describe(ev.location));
  }
  append_stack_json(out, names_, stack);
  out += "}\n";
}

void TraceReporter::append_lost(std::string& out, int cpu, uint64_t count) {
  append_lost_line(out, options_.run.json, cpu, count);
}

namespace {

std::vector<HopSpec> load_list(const TraceOptions& options) {
  if (options.probes_file.empty()) return default_probe_list();
  std::ifstream in(options.probes_file);
  if (!in)
    throw UsageError(fmt::format("--probes @{}: cannot read the probe list file (check the path)", options.probes_file));
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_probe_list(text, options.probes_file);
}

}  // namespace

int run_trace(const TraceOptions& options) {
  const std::vector<HopSpec> list = load_list(options);
  if (options.list_probes) {
    for (const auto& hop : list)
      std::printf("%-26s %-10s %s\n", hop.name.c_str(), hop.layer.c_str(), hop.description.c_str());
    return 0;
  }
  Session session = open_session(options.run.headers, "trace");
  const Kallsyms kallsyms = Kallsyms::load();
  if (options.callstack) require_bpf_stack_maps(session.kernel, "--callstack");
  if (options.dropstack) require_bpf_stack_maps(session.kernel, "--dropstack");
  const TracePlan plan = plan_trace(list, options.hops, session.kernel, kallsyms);
  bool has_reason = false;
  ValueNames reasons;
  if (session.kernel.has_tracepoint("skb", "kfree_skb")) {
    const auto format = read_tracepoint_format(session.kernel.tracepoint_format("skb", "kfree_skb"));
    has_reason = format.field("reason") != nullptr;
    if (const auto* table = format.symbolic_for("reason")) reasons = ValueNames(*table);
  }
  const std::string source = programs::expand_program("trace.bpf.c") + trace_handlers(plan);
  const auto start = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  BpfProgram program({"trace.bpf.c", trace_program_cflags(options, plan, session.kernel, has_reason),
                      session.headers, source});
  if (options.run.verbose) std::fprintf(stderr, "skbtrail trace: compiled in %.1f s\n", seconds_since(start));
  const auto attach_start = std::chrono::steady_clock::now();
  const auto outcomes = attach_probes(program, trace_probe_specs(plan), session.kernel, &kallsyms);
  if (options.run.verbose) std::fprintf(stderr, "skbtrail trace: attached in %.1f s\n", seconds_since(attach_start));

  std::vector<std::string> attached;
  auto failed = plan.missing;
  for (const auto& outcome : outcomes) {
    if (outcome.attached) attached.push_back(outcome.name);
    else failed.emplace_back(outcome.name, fmt::format("{}", fmt::join(outcome.notes, "; ")));
  }
  if (attached.empty())
    throw EnvironmentError(fmt::format("trace: nothing could be attached: {}", describe_missing(failed)));

  EventLoop loop;
  const auto symbols = open_symbols_or_explain(options.run.symbolize, "trace");
  const AddressNamer names(kallsyms, symbols.get());
  TraceReporter reporter(plan, names, reasons, MonotonicToWall(), options);
  StackMap stacks((options.callstack || options.dropstack) ? program.table_fd("trace_stacks") : -1);
  BatchedOutput output(loop);
  std::string& out = output.buffer();
  const auto handle_sample = reporting_handler(loop, reporter, out, stacks, options.run.count, &decode_trace_event);
  auto flush = [&] { output.flush(); };
  PerfEventStream stream(loop, program.table_fd("trace_events"), options.run.perf_pages, handle_sample,
                         [&](int cpu, uint64_t lost) { reporter.append_lost(out, cpu, lost); });
  stream.on_batch_end(flush);
  if (options.run.duration) loop.stop_after(*options.run.duration);

  std::fprintf(stderr, "skbtrail trace: attached %zu hops (header mode %s): %s\n", attached.size(),
               session.headers.mode.c_str(), fmt::format("{}", fmt::join(attached, ", ")).c_str());
  if (!failed.empty())
    std::fprintf(stderr, "skbtrail trace: not traced here: %s\n", describe_missing(failed).c_str());
  const BpfStatsScope bpf_stats(options.run.bpf_stats);
  std::fprintf(stderr, "skbtrail trace: filter: %s; Ctrl-C to stop\n", describe(options.filter).c_str());
  loop.run();
  if (loop.stop_reason() != "count reached" && !output.failed()) stream.drain();
  flush();
  bpf_stats.report("trace", options.run.json);
  return 0;
}

}  // namespace skbtrail
