#include "runner/rst.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/bpf_program.h"
#include "runner/bpf_stats.h"
#include "runner/errors.h"
#include "runner/event_loop.h"
#include "runner/kallsyms.h"
#include "runner/probe_list.h"
#include "runner/stacks.h"
#include "symbolize/kernel_symbols.h"

namespace skbtrail {

namespace {
constexpr int kStackEntries = 4096;

const char* const kSourceNames[] = {"tcp_v4_send_reset", "tcp_v6_send_reset", "tcp_send_active_reset",
                                    "nf_send_reset",     "nf_send_reset6",    "tcp_reset",
                                    "tp:tcp_send_reset", "tp:tcp_receive_reset"};
}  // namespace

const char* rst_source_name(uint8_t source) { return source < 8 ? kSourceNames[source] : "?"; }

std::vector<ProbeSpec> rst_probes(bool want_nf, bool want_conntrack) {
  // Kprobes first (they give the caller); the tracepoints stand in on
  // kernels without kprobes. tcp_send_reset's tracepoint covers the three
  // sending functions, so it is attached only when none of them attached.
  std::vector<ProbeSpec> specs = {
      {"tcp_v4_send_reset", {{ProbeKind::Kprobe, "tcp_v4_send_reset", "skbtrail_tcp_v4_send_reset"}}, false},
      {"tcp_v6_send_reset", {{ProbeKind::Kprobe, "tcp_v6_send_reset", "skbtrail_tcp_v6_send_reset"}}, false},
      {"tcp_send_active_reset",
       {{ProbeKind::Kprobe, "tcp_send_active_reset", "skbtrail_tcp_send_active_reset"}},
       false},
      {"tcp_reset",
       {{ProbeKind::Kprobe, "tcp_reset", "skbtrail_tcp_reset"},
        {ProbeKind::Tracepoint, "tcp:tcp_receive_reset", "tracepoint__tcp__tcp_receive_reset"}},
       false},
  };
  if (want_nf) {
    specs.push_back({"nf_send_reset", {{ProbeKind::Kprobe, "nf_send_reset", "skbtrail_nf_send_reset"}}, false});
    specs.push_back({"nf_send_reset6", {{ProbeKind::Kprobe, "nf_send_reset6", "skbtrail_nf_send_reset6"}}, false});
  }
  // Not a RST source: evidence for the ones answering conntrack-INVALID segments.
  if (want_conntrack)
    specs.push_back({"nf_ct_l4proto_log_invalid",
                     {{ProbeKind::Kprobe, "nf_ct_l4proto_log_invalid", "skbtrail_ct_log_invalid"}},
                     false});
  return specs;
}

std::vector<std::string> rst_program_cflags(const RstOptions& options, const KernelInfo& kernel,
                                            const TracepointFormat* send_reset_format, bool tp_send, bool tp_receive,
                                            bool want_conntrack) {
  std::vector<std::string> flags = filter_cflags(options.filter);
  // Without stack maps (< 4.6) the BPF side records the kprobe's caller instead.
  if (has_bpf_stack_maps(kernel)) flags.push_back(fmt::format("-DSKBTRAIL_STACK_ENTRIES={}", kStackEntries));
  const uint32_t v = kernel.version_code;
  if (v >= kernel_version(6, 10, 0)) flags.push_back("-DSKBTRAIL_RST_REASON_ARG=1");
  // nf_send_reset(net, sk, oldskb, hook) from 5.10, (net, oldskb, hook) from
  // 4.4, (oldskb, hook) before.
  if (v == 0 || v >= kernel_version(5, 10, 0)) {
    flags.push_back("-DSKBTRAIL_NF_RESET_SKB_ARG=3");
    flags.push_back("-DSKBTRAIL_NF_RESET_HOOK_ARG=4");
  } else if (v >= kernel_version(4, 4, 0)) {
    flags.push_back("-DSKBTRAIL_NF_RESET_SKB_ARG=2");
    flags.push_back("-DSKBTRAIL_NF_RESET_HOOK_ARG=3");
  } else {
    flags.push_back("-DSKBTRAIL_NF_RESET_SKB_ARG=1");
    flags.push_back("-DSKBTRAIL_NF_RESET_HOOK_ARG=2");
  }
  if (tp_send) flags.push_back("-DSKBTRAIL_WANT_TP_SEND_RESET=1");
  if (tp_send && send_reset_format && send_reset_format->field("reason"))
    flags.push_back("-DSKBTRAIL_TP_SEND_RESET_REASON=1");
  if (tp_receive) flags.push_back("-DSKBTRAIL_WANT_TP_RECEIVE_RESET=1");
  if (want_conntrack) {
    // nf_ct_l4proto_log_invalid(skb, ct, state, fmt, ...) since 5.16, (skb, ct, fmt, ...) before.
    const bool has_state = v == 0 || v >= kernel_version(5, 16, 0);
    flags.push_back("-DSKBTRAIL_CT_INVALID=1");
    flags.push_back(fmt::format("-DSKBTRAIL_CT_LOG_FMT_ARG={}", has_state ? 4 : 3));
    flags.push_back(fmt::format("-DSKBTRAIL_CT_LOG_ARGS_ARG={}", has_state ? 5 : 4));
  }
  return flags;
}

bool decode_rst_event(std::span<const uint8_t> sample, skbtrail_rst_event& event) {
  if (sample.size() < sizeof(event)) return false;
  std::memcpy(&event, sample.data(), sizeof(event));
  return true;
}

std::string tcp_state_name(uint8_t state) {
  static constexpr const char* kNames[] = {"",           "TCP_ESTABLISHED", "TCP_SYN_SENT", "TCP_SYN_RECV",
                                           "TCP_FIN_WAIT1", "TCP_FIN_WAIT2", "TCP_TIME_WAIT", "TCP_CLOSE",
                                           "TCP_CLOSE_WAIT", "TCP_LAST_ACK", "TCP_LISTEN",  "TCP_CLOSING",
                                           "TCP_NEW_SYN_RECV"};
  if (state == 0) return "-";
  return state < 13 ? kNames[state] : fmt::format("state{}", state);
}

namespace {

// enum ip_conntrack_status bits (uapi, stable since 2.6).
constexpr uint32_t kConntrackSrcNat = 1u << 4;
constexpr uint32_t kConntrackDstNat = 1u << 5;

std::string conntrack_tuple_text(const skbtrail_ct_tuple& t, uint8_t family) {
  skbtrail_packet pkt{};
  std::memcpy(pkt.saddr, t.saddr, sizeof(pkt.saddr));
  std::memcpy(pkt.daddr, t.daddr, sizeof(pkt.daddr));
  pkt.sport = t.sport;
  pkt.dport = t.dport;
  pkt.l3_proto = family == 10 ? 0x86dd : 0x0800;
  pkt.l4_proto = 6;
  return packet_tuple(pkt);
}

// The tracker's words are a printf format on newer kernels ("SEQ is over
// upper bound %u (...)"); the values are not in reach, so drop the
// conversions rather than print them raw.
std::string conntrack_message(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    size_t j = i + 1;
    while (j < text.size() && std::strchr("0123456789.-+ #lhzjt", text[j])) ++j;
    i = j;  // skips the conversion letter too
    if (!out.empty() && out.back() == ' ' && i + 1 < text.size() && text[i + 1] == ' ') out.pop_back();
  }
  return out.empty() ? "no reason given" : out;
}

std::string function_of(const std::string& frame) { return frame.substr(0, frame.find('+')); }

// Frames that belong to the probe machinery, not to the code that decided.
bool is_probe_frame(const std::string& function) {
  return function.starts_with("bpf_") || function.starts_with("perf_") || function.starts_with("trace_") ||
         function.starts_with("__traceiter") || function.starts_with("kprobe") || function.find("ftrace") != std::string::npos;
}

}  // namespace

RstReporter::RstReporter(const AddressNamer& names, const RuleSet& rules, ValueNames reasons, MonotonicToWall clock,
                         const RstOptions& options)
    : names_(names), rules_(rules), reasons_(std::move(reasons)), clock_(clock), options_(options) {}

RuleFacts RstReporter::facts(const skbtrail_rst_event& ev, std::span<const uint64_t> stack) const {
  RuleFacts f;
  const std::string source = rst_source_name(ev.source);
  const std::string source_function = source.starts_with("tp:") ? source.substr(3) : source;
  for (const uint64_t ip : stack) f.stack.push_back(function_of(names_.kallsyms().describe(ip)));
  // The caller: the first frame that is neither the probe machinery nor the
  // source function itself (nor its tracepoint wrapper).
  std::string caller;
  for (const auto& fn : f.stack) {
    // The RST-building functions are where the decision lands, not where it is made.
    if (is_probe_frame(fn) || fn == source_function || fn == "tcp_send_active_reset" || fn == "tcp_v4_send_reset" ||
        fn == "tcp_v6_send_reset" || fn == "tcp_reset" || fn.empty())
      continue;
    caller = fn;
    break;
  }
  const std::string reason = ev.has_reason ? reasons_.name_or_number(ev.reason) : std::string();
  f.values = {{"source", source},
              {"caller", caller},
              {"reason", reason},
              {"state", tcp_state_name(ev.state)},
              {"sock", ev.skaddr ? "present" : "none"}};
  if (ev.source == SKBTRAIL_RST_NF_SEND_RESET || ev.source == SKBTRAIL_RST_NF_SEND_RESET6) {
    static constexpr const char* kHooks[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
    f.values["hook"] = ev.hook < 5 ? kHooks[ev.hook] : fmt::format("hook{}", ev.hook);
  }
  if (ev.ct.valid) {
    f.values["conntrack"] = "invalid";
    f.values["nat"] = (ev.ct.status & kConntrackDstNat) ? "dnat" : (ev.ct.status & kConntrackSrcNat) ? "snat" : "none";
  }
  f.vars = packet_placeholders(ev.pkt);
  if (ev.ct.valid) {
    f.vars["ct_orig"] = conntrack_tuple_text(ev.ct.orig, ev.ct.family);
    f.vars["ct_reply"] = conntrack_tuple_text(ev.ct.reply, ev.ct.family);
    f.vars["ct_message"] = conntrack_message(fixed_string(ev.ct.message, sizeof(ev.ct.message)));
    f.vars["nat"] = f.values["nat"];
  }
  f.vars.insert({{"netns", std::to_string(ev.netns)},
            {"state", tcp_state_name(ev.state)},
            {"reason", reason.empty() ? "-" : reason},
            {"hook", f.values.count("hook") ? f.values["hook"] : "-"},
            {"comm", std::string(fixed_string(ev.comm, sizeof(ev.comm)))},
            {"pid", std::to_string(ev.pid)},
            {"caller", caller.empty() ? "-" : caller},
            {"source", source}});
  return f;
}

void RstReporter::append_event(std::string& out, const skbtrail_rst_event& ev, std::span<const uint64_t> stack) {
  // Kernels without stack maps give the caller only: a one-frame stack.
  const uint64_t caller_only[] = {ev.caller_ip};
  if (stack.empty() && ev.caller_ip) stack = caller_only;
  ++events_;
  const RuleFacts f = facts(ev, stack);
  const Rule* rule = rules_.match(f);
  const bool received = ev.source == SKBTRAIL_RST_TCP_RESET || ev.source == SKBTRAIL_RST_TP_RECEIVE_RESET;
  const std::string cause = rule ? expand_placeholders(rule->cause, f.vars) : "unclassified";
  const std::string advice = rule ? expand_placeholders(rule->advice, f.vars) : "";
  const std::string level = rule ? rule->level : "info";
  auto& count = by_rule_[rule ? rule->name : "unclassified"];
  count.first = rule;
  ++count.second;

  // Evidence: the source, the key frame (the caller) with its address, reason and state.
  // facts() already named every frame: find the caller's among them.
  std::string key_frame;
  const std::string& caller = f.values.at("caller");
  if (!caller.empty())
    if (const auto it = std::find(f.stack.begin(), f.stack.end(), caller); it != f.stack.end())
      key_frame = names_.describe(stack[static_cast<size_t>(it - f.stack.begin())], true);
  std::string evidence = fmt::format("{} {}", f.values.at("source"), ev.skaddr ? "on a socket" : "with no socket");
  if (!key_frame.empty()) evidence += ", called from " + key_frame;
  if (ev.has_reason) evidence += ", reason " + f.values.at("reason");
  if (ev.state) evidence += ", state " + tcp_state_name(ev.state);
  if (f.values.count("hook")) evidence += ", netfilter hook " + f.values.at("hook");
  if (ev.segment_flags) evidence += ", answering " + tcp_flags_text(ev.segment_flags);
  if (ev.ct.valid) {
    evidence += fmt::format("; conntrack called that segment INVALID (\"{}\") and detached it from its entry {} (reply {}",
                            f.vars.at("ct_message"), f.vars.at("ct_orig"), f.vars.at("ct_reply"));
    const std::string& nat = f.values.at("nat");
    evidence += nat == "none" ? ")" : fmt::format(", {} skipped)", nat == "dnat" ? "DNAT" : "SNAT");
  }
  if (rule) evidence += fmt::format(" (rule [{}])", rule->name);

  const std::string tuple = packet_tuple(ev.pkt);
  if (!options_.run.json) {
    const std::string_view ifname = fixed_string(ev.ifname, sizeof(ev.ifname));
    fmt::format_to(std::back_inserter(out), "{} RST {} {}  netns {}  dev {}  {}/{}  {}\n", clock_.time_of_day(ev.ts_ns),
                   received ? "received" : "sent    ", tuple, ev.netns, ifname.empty() ? "-" : ifname,
                   fixed_string(ev.comm, sizeof(ev.comm)), ev.pid, tcp_state_name(ev.state));
    fmt::format_to(std::back_inserter(out), "  cause    [{}] {}\n  evidence {}\n", level, cause, evidence);
    if (!advice.empty()) fmt::format_to(std::back_inserter(out), "  advice   {}\n", advice);
    if (options_.stack) append_stack_text(out, names_, stack);
    return;
  }
  out += "{\"type\":\"rst\",\"time\":";
  append_json_string(out, clock_.iso8601(ev.ts_ns));
  out += fmt::format(",\"direction\":\"{}\",\"source\":", received ? "received" : "sent");
  append_json_string(out, f.values.at("source"));
  append_json_packet(out, ev.pkt);
  out += ",\"ifname\":";
  append_json_string(out, fixed_string(ev.ifname, sizeof(ev.ifname)));
  if (ev.segment_flags) {
    out += ",\"answering\":";
    append_json_string(out, tcp_flags_text(ev.segment_flags));
  }
  fmt::format_to(std::back_inserter(out), ",\"netns\":{},\"pid\":{},\"comm\":", ev.netns, ev.pid);
  append_json_string(out, fixed_string(ev.comm, sizeof(ev.comm)));
  out += ",\"state\":";
  append_json_string(out, tcp_state_name(ev.state));
  out += ",\"socket\":";
  out += ev.skaddr ? "true" : "false";
  if (ev.has_reason) {
    out += ",\"reason\":";
    append_json_string(out, f.values.at("reason"));
  }
  out += ",\"caller\":";
  append_json_string(out, caller);
  if (ev.ct.valid) {
    out += ",\"conntrack\":{\"state\":\"INVALID\",\"message\":";
    append_json_string(out, f.vars.at("ct_message"));
    out += ",\"original\":";
    append_json_string(out, f.vars.at("ct_orig"));
    out += ",\"reply\":";
    append_json_string(out, f.vars.at("ct_reply"));
    out += ",\"nat\":";
    append_json_string(out, f.values.at("nat"));
    out += "}";
  }
  out += ",\"rule\":";
  append_json_string(out, rule ? rule->name : "");
  out += ",\"level\":";
  append_json_string(out, level);
  out += ",\"cause\":";
  append_json_string(out, cause);
  out += ",\"evidence\":";
  append_json_string(out, evidence);
  out += ",\"advice\":";
  append_json_string(out, advice);
  append_stack_json(out, names_, stack);
  out += "}\n";
}

void RstReporter::append_summary(std::string& out) const {
  std::vector<std::pair<std::string, std::pair<const Rule*, uint64_t>>> rows(by_rule_.begin(), by_rule_.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.second > b.second.second; });
  if (options_.run.json) {
    fmt::format_to(std::back_inserter(out), "{{\"type\":\"summary\",\"resets\":{},\"by_cause\":[", events_);
    for (size_t i = 0; i < rows.size(); ++i) {
      out += i ? ",{\"rule\":" : "{\"rule\":";
      append_json_string(out, rows[i].first);
      fmt::format_to(std::back_inserter(out), ",\"count\":{}}}", rows[i].second.second);
    }
    out += "]}\n";
    return;
  }
  fmt::format_to(std::back_inserter(out), "\n--- analysis result: {} resets ---\n", events_);
  for (const auto& [name, entry] : rows)
    fmt::format_to(std::back_inserter(out), "{:>8}  [{}] {}\n", entry.second, entry.first ? entry.first->level : "info",
                   name);
}

int run_rst(const RstOptions& options) {
  const RuleSet rules = RuleSet::load("rst.rules", options.rule_files);
  Session session = open_session(options.run.headers, "rst");
  const Kallsyms kallsyms = Kallsyms::load();

  // Which sources this kernel can attach decides the tracepoint fallbacks.
  // The conntrack evidence needs struct nf_conn: real headers (in BTF mode
  // it may live in a module's BTF, which the generated tree does not hold).
  const bool want_conntrack = session.kernel.has_kprobes && session.headers.mode != "btf";
  const auto specs = rst_probes(true, want_conntrack);
  auto usable = [&](const ProbeSpec& spec) {
    return !unavailable_reason(spec.choices.front(), session.kernel, &kallsyms).has_value();
  };
  // specs[0..2] are the three sending functions tcp:tcp_send_reset covers;
  // specs[3] is tcp_reset, which tcp:tcp_receive_reset covers.
  const bool any_sender = std::any_of(specs.begin(), specs.begin() + 3, usable);
  const bool tp_send = !any_sender && session.kernel.has_tracepoint("tcp", "tcp_send_reset");
  const bool tp_receive = !usable(specs[3]) && session.kernel.has_tracepoint("tcp", "tcp_receive_reset");
  std::optional<TracepointFormat> send_format;
  ValueNames reasons;
  if (session.kernel.has_tracepoint("tcp", "tcp_send_reset")) {
    send_format = read_tracepoint_format(session.kernel.tracepoint_format("tcp", "tcp_send_reset"));
    if (const auto* table = send_format->symbolic_for("reason")) reasons = ValueNames(*table);
  }
  std::vector<ProbeSpec> to_attach = specs;
  if (tp_send)
    to_attach.push_back({"tcp:tcp_send_reset",
                         {{ProbeKind::Tracepoint, "tcp:tcp_send_reset", "tracepoint__tcp__tcp_send_reset"}},
                         false});
  // nf_send_reset lives in the nf_reject_ipv4 module: when it is not loaded
  // the attach layer reports it missing and the rest runs.
  BpfProgram program({"rst.bpf.c",
                      rst_program_cflags(options, session.kernel, send_format ? &*send_format : nullptr, tp_send,
                                         tp_receive, want_conntrack),
                      session.headers, {}});
  const auto outcomes = attach_probes(program, to_attach, session.kernel, &kallsyms);
  std::vector<std::string> attached;
  std::vector<std::pair<std::string, std::string>> missing;
  for (const auto& o : outcomes) {
    if (o.attached) attached.push_back(o.attached->describe());
    else missing.emplace_back(o.name, o.notes.empty() ? "not available" : o.notes.back());
  }
  if (attached.empty())
    throw EnvironmentError("rst: no RST source could be attached (no kprobes and no tcp:tcp_send_reset tracepoint)");

  EventLoop loop;
  const auto symbols = open_symbols_or_explain(options.run.symbolize, "rst");
  const AddressNamer names(kallsyms, symbols.get());
  RstReporter reporter(names, rules, reasons, MonotonicToWall(), options);
  StackMap stacks(has_bpf_stack_maps(session.kernel) ? program.table_fd("rst_stacks") : -1);
  BatchedOutput output(loop);
  std::string& out = output.buffer();
  const auto handle_sample = reporting_handler(loop, reporter, out, stacks, options.run.count, &decode_rst_event);
  PerfEventStream stream(loop, program.table_fd("rst_events"), options.run.perf_pages, handle_sample,
                         [&](int cpu, uint64_t lost) { append_lost_line(out, options.run.json, cpu, lost); });
  stream.on_batch_end([&] { output.flush(); });
  if (options.run.duration) loop.stop_after(*options.run.duration);
  std::fprintf(stderr, "skbtrail rst: attached %s (header mode %s)\n", fmt::format("{}", fmt::join(attached, ", ")).c_str(),
               session.headers.mode.c_str());
  if (!missing.empty()) std::fprintf(stderr, "skbtrail rst: not watched here: %s\n", describe_missing(missing).c_str());
  const BpfStatsScope bpf_stats(options.run.bpf_stats);
  std::fprintf(stderr, "skbtrail rst: filter: %s; Ctrl-C to stop\n", describe(options.filter).c_str());
  loop.run();
  if (loop.stop_reason() != "count reached" && !output.failed()) stream.drain();
  if (options.summary && !output.failed()) reporter.append_summary(out);
  output.flush();
  bpf_stats.report("rst", options.run.json);
  return 0;
}

}  // namespace skbtrail
