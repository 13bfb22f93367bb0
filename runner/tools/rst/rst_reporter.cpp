#include "runner/tools/rst/rst_reporter.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "runner/kernel/kallsyms.h"
#include "runner/output/netfilter_names.h"
#include "runner/output/packet_format.h"
#include "runner/output/text.h"

namespace skbtrail {

const char* rst_source_name(uint8_t source) {
  switch (source) {
#define SKBTRAIL_RST_SOURCE_NAME(name, value, text) \
  case value: return text;
    SKBTRAIL_RST_SOURCES(SKBTRAIL_RST_SOURCE_NAME)
#undef SKBTRAIL_RST_SOURCE_NAME
  }
  return "?";
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

RstReporter::RstReporter(const AddressNamer& names, const RuleSet& rules, ValueNames reasons, bool stack_in_text,
                         bool summary)
    : names_(names), rules_(rules), reasons_(std::move(reasons)), stack_in_text_(stack_in_text), summary_(summary) {}

RuleFacts RstReporter::facts(const skbtrail_rst_event& ev, std::span<const uint64_t> stack,
                             const netfilter::Blame* blame) const {
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
    f.values["hook"] = netfilter_hook_name(ev.hook);
  }
  if (ev.ct.valid) {
    f.values["conntrack"] = "invalid";
    f.values["nat"] = (ev.ct.status & kConntrackDstNat) ? "dnat" : (ev.ct.status & kConntrackSrcNat) ? "snat" : "none";
  }
  f.vars = packet_placeholders(ev.pkt);
  if (ev.ct.valid) {
    f.vars["ct_orig"] = conntrack_tuple_text(ev.ct.orig, ev.ct.family);
    f.vars["ct_reply"] = conntrack_tuple_text(ev.ct.reply, ev.ct.family);
    f.vars["ct_message"] = conntrack_message(fixed_string(ev.ct.message));
    f.vars["nat"] = f.values["nat"];
  }
  f.vars.insert({{"netns", std::to_string(ev.netns)},
            {"state", tcp_state_name(ev.state)},
            {"reason", reason.empty() ? "-" : reason},
            {"hook", f.values.count("hook") ? f.values["hook"] : "-"},
            {"comm", std::string(fixed_string(ev.comm))},
            {"pid", std::to_string(ev.pid)},
            {"caller", caller.empty() ? "-" : caller},
            {"source", source}});
  blame_placeholders(blame, f.vars);
  return f;
}

std::vector<uint64_t> RstReporter::stack_with_caller(const skbtrail_rst_event& ev,
                                                     std::span<const uint64_t> stack) const {
  std::vector<uint64_t> out(stack.begin(), stack.end());
  if (!ev.caller_ip || std::find(out.begin(), out.end(), ev.caller_ip) != out.end()) return out;
  // Kernels without stack maps give the caller only: a one-frame stack.
  // Frame-pointer stacks of a kprobe (before the ORC unwinder of 4.14) skip
  // the probed function's caller, which has not been pushed yet: put it
  // back after the frames of the probe and of the source function.
  const std::string source = rst_source_name(ev.source);
  size_t at = 0;
  while (at < out.size()) {
    const std::string fn = function_of(names_.kallsyms().describe(out[at]));
    if (!is_probe_frame(fn) && fn != source) break;
    ++at;
  }
  out.insert(out.begin() + static_cast<long>(at), ev.caller_ip);
  return out;
}

void RstReporter::report(const skbtrail_rst_event& ev, std::span<const uint64_t> raw_stack, Output& out) {
  std::vector<uint64_t> with_caller = stack_with_caller(ev, raw_stack);
  ++events_;
  // The segment's bytes ride after the event only during this call: kept
  // for a REJECT that waits for its rule.
  std::vector<uint8_t> capture;
  if (pcap_) capture.assign(trailing().begin(), trailing().end());
  const bool rejected = ev.source == SKBTRAIL_RST_NF_SEND_RESET || ev.source == SKBTRAIL_RST_NF_SEND_RESET6;
  if (!blame_ || !blame_->enabled() || !rejected) {
    if (blame_ && blame_->enabled() && !blame_->idle())  // keeps the order behind a REJECT that waits
      blame_->push(ev.netns, ev.ts_ns, std::nullopt,
                   [this, ev, kept = std::move(with_caller), bytes = std::move(capture)](const netfilter::Blame*,
                                                                                        Output& o) {
                     emit(ev, kept, nullptr, bytes, o);
                   },
                   out);
    else
      emit(ev, with_caller, nullptr, capture, out);
    return;
  }
  // The RST answers a segment that a REJECT rule matched: the rule is
  // blamed on that segment (the RST's direction reversed), at its hook.
  netfilter::BlameQuery query;
  query.packet = blame_packet(ev.pkt, true);
  query.hook = netfilter::nft_hook_name(ev.hook);
  blame_->push(ev.netns, ev.ts_ns, std::move(query),
               [this, ev, kept = std::move(with_caller), bytes = std::move(capture)](const netfilter::Blame* blame,
                                                                                    Output& o) {
                 emit(ev, kept, blame, bytes, o);
               },
               out);
}

void RstReporter::emit(const skbtrail_rst_event& ev, std::span<const uint64_t> stack, const netfilter::Blame* blame,
                       std::span<const uint8_t> capture, Output& out) {
  const RuleFacts f = facts(ev, stack, blame);
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
  if (blame) evidence += ", rule " + netfilter::blame_line(*blame);
  if (ev.segment_flags) evidence += ", answering " + tcp_flags_text(ev.segment_flags);
  if (ev.ct.valid) {
    evidence += fmt::format("; conntrack called that segment INVALID (\"{}\") and detached it from its entry {} (reply {}",
                            f.vars.at("ct_message"), f.vars.at("ct_orig"), f.vars.at("ct_reply"));
    const std::string& nat = f.values.at("nat");
    evidence += nat == "none" ? ")" : fmt::format(", {} skipped)", nat == "dnat" ? "DNAT" : "SNAT");
  }
  if (rule) evidence += fmt::format(" (rule [{}])", rule->name);

  // --pcap: the segment the RST answers (socket resets have none), with
  // what the text says of it.
  if (const CapturedBytes packet = captured_bytes(capture, snaplen_); pcap_ && !packet.bytes.empty()) {
    std::string comment = fmt::format("{}: RST answering this segment; [{}] {}", f.values.at("source"),
                                      rule ? rule->name : "unclassified", cause);
    fmt::format_to(std::back_inserter(comment), "; dev {}; netns {}",
                   ev.ifname[0] ? std::string(fixed_string(ev.ifname)) : "-", ev.netns);
    if (blame) comment += "; rule " + netfilter::blame_line(*blame);
    pcap_->write({out.clock().wall_ns(ev.ts_ns), fixed_string(ev.ifname), 0, ev.netns, packet.bytes,
                  packet.wire_len, std::move(comment)});
  }

  RstConntrack conntrack;
  if (ev.ct.valid) conntrack = {f.vars.at("ct_message"), f.vars.at("ct_orig"), f.vars.at("ct_reply"), f.values.at("nat")};
  const std::string state = tcp_state_name(ev.state);
  out.write(RstRecord{&ev, received, f.values.at("source"), state, f.values.at("reason"), caller,
                      ev.ct.valid ? &conntrack : nullptr, rule ? std::string_view(rule->name) : std::string_view(),
                      level, cause, evidence, advice, {&names_, stack}, stack_in_text_});
}

void RstReporter::end(Output& out) {
  if (blame_) blame_->finish(out);
  if (pcap_ && !pcap_->flush()) fmt::print(stderr, "skbtrail rst: {}\n", pcap_->error());
  if (!summary_) return;
  RstSummaryRecord s;
  s.resets = events_;
  for (const auto& [name, entry] : by_rule_) s.by_cause.push_back({name, entry.first ? entry.first->level : "info", entry.second});
  std::stable_sort(s.by_cause.begin(), s.by_cause.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  out.write(s);
}

}  // namespace skbtrail
