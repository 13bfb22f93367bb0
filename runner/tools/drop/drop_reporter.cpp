#include "runner/tools/drop/drop_reporter.h"

#include <algorithm>

#include <fmt/format.h>

#include "runner/kernel/kallsyms.h"
#include "runner/output/packet_format.h"
#include "runner/output/text.h"
#include "runner/output/netfilter_names.h"

namespace skbtrail {

namespace {
std::string function_of(const std::string& frame) { return frame.substr(0, frame.find('+')); }

// A drop that netfilter's verdict made: by reason (5.17+), or by the
// function that freed it on kernels without reasons.
bool netfilter_drop(const std::string& reason, const std::string& pseudo, const std::string& location) {
  if (reason == "NETFILTER_DROP" || pseudo == "NETFILTER_DROP") return true;
  const std::string fn = function_of(location);
  return fn == "nf_hook_slow" || fn == "nft_do_chain" || fn == "ipt_do_table" || fn == "ip6t_do_table";
}

}  // namespace

DropReporter::DropReporter(const AddressNamer& names, ValueNames reasons, bool has_reason, const RuleSet* rules,
                           bool summary)
    : names_(names), reasons_(std::move(reasons)), has_reason_(has_reason), summary_(summary),
      pseudo_rules_(rules) {}

void DropReporter::begin(Output& out) {
  if (!out.json()) out.text() += drop_header();
}

const std::string& DropReporter::reason_name(uint32_t reason) const {
  if (const auto it = reason_names_.find(reason); it != reason_names_.end()) return it->second;
  return reason_names_.emplace(reason, has_reason_ ? reasons_.name_or_number(reason) : std::string()).first->second;
}

const std::string& DropReporter::pseudo_reason(uint64_t location, const std::string& described) const {
  if (const auto it = pseudo_reasons_.find(location); it != pseudo_reasons_.end()) return it->second;
  std::string pseudo;
  if (!has_reason_ && pseudo_rules_) pseudo = pseudo_rules_->pseudo_reason_of(function_of(described));
  return pseudo_reasons_.emplace(location, std::move(pseudo)).first->second;
}

bool DropReporter::diagnose(const skbtrail_drop_event& ev, const std::string& reason, const std::string& location,
                            std::span<const uint64_t> stack, const netfilter::Blame* blame, DropDiagnosis& d,
                            const Rule*& rule) const {
  RuleFacts f;
  f.values = {{"source", "kfree_skb"}, {"reason", reason}, {"location", function_of(location)}};
  for (const uint64_t ip : stack) f.stack.push_back(function_of(names_.kallsyms().describe(ip)));
  std::string chain = "-";
  if (ev.nf_valid) {
    chain = netfilter_hook_name(ev.nf_hook);
    f.values["hook"] = chain;
    // nf_hook_slow frees the skb itself only for an NF_DROP verdict (REJECT
    // too); other frees inside a hook (defrag, a stolen skb) are not verdicts.
    if (f.values["location"] == "nf_hook_slow") f.values["verdict"] = "DROP";
  }
  f.vars = packet_placeholders(ev.pkt);
  f.vars.insert({{"netns", std::to_string(ev.netns)},
                 {"reason", reason.empty() ? "-" : reason},
                 {"reason_suffix", reason.empty() ? "" : " (reason " + reason + ")"},
                 {"location", location},
                 {"ifname", std::string(fixed_string(ev.ifname))},
                 {"comm", std::string(fixed_string(ev.comm))},
                 {"chain", chain},
                 {"chain_suffix",
                  ev.nf_valid ? fmt::format(" in the {} chain ({})", chain, ev.nf_pf == 10 ? "ipv6" : "ipv4") : ""}});
  blame_placeholders(blame, f.vars);
  // Without kprobes the hook is unknown, but the blamed rule names its chain.
  if (!ev.nf_valid && f.vars["blamed_chain"] != "-") {
    f.vars["chain"] = f.vars["blamed_chain"];
    f.vars["chain_suffix"] = " in " + f.vars["blamed_chain"];
  }
  rule = rules_->match(f);
  if (!rule) return false;
  d.rule = rule->name;
  d.level = rule->level;
  d.cause = expand_placeholders(rule->cause, f.vars);
  d.advice = expand_placeholders(rule->advice, f.vars);
  return true;
}

void DropReporter::report(const skbtrail_drop_event& ev, std::span<const uint64_t> stack, Output& out) {
  ++events_;
  ++by_reason_location_[{ev.reason, ev.location}];
  const std::span<const uint8_t> capture = pcap_ ? trailing() : std::span<const uint8_t>();
  if (!blame_ || !blame_->enabled()) return emit(ev, stack, nullptr, capture, out);
  const std::string& location = names_.describe(ev.location);
  std::optional<netfilter::BlameQuery> query;
  if (netfilter_drop(reason_name(ev.reason), pseudo_reason(ev.location, location), location)) {
    query.emplace();
    query->packet = blame_packet(ev.pkt);
    if (ev.nf_valid) query->hook = netfilter::nft_hook_name(ev.nf_hook);
  }
  if (!query && blame_->idle()) return emit(ev, stack, nullptr, capture, out);
  // Held until the counters are read after it: the event, its stack and its bytes are kept.
  blame_->push(ev.netns, ev.ts_ns, std::move(query),
               [this, ev, kept = std::vector<uint64_t>(stack.begin(), stack.end()),
                bytes = std::vector<uint8_t>(capture.begin(), capture.end())](const netfilter::Blame* blame,
                                                                              Output& o) {
                 emit(ev, kept, blame, bytes, o);
               },
               out);
}

void DropReporter::write_pcap(const skbtrail_drop_event& ev, const std::string& reason, const std::string& pseudo,
                              const std::string& location, const netfilter::Blame* blame,
                              std::span<const uint8_t> capture, const Output& out) {
  const CapturedBytes packet = captured_bytes(capture, snaplen_);
  // What Wireshark shows as the frame comment: the hop, then what the text
  // output says about the drop.
  std::string comment = "kfree_skb: drop";
  if (!reason.empty()) comment += " " + reason;
  else if (!pseudo.empty()) comment += " ~" + pseudo;
  fmt::format_to(std::back_inserter(comment), " at {}; dev {}; netns {}", location,
                 ev.ifname[0] ? std::string(fixed_string(ev.ifname)) : "-", ev.netns);
  if (blame) comment += "; rule " + netfilter::blame_line(*blame);
  if (packet.bytes.empty()) comment += "; packet bytes not readable";
  pcap_->write({out.clock().wall_ns(ev.ts_ns), fixed_string(ev.ifname), ev.ifindex, ev.netns, packet.bytes,
                packet.wire_len, std::move(comment)});
}

void DropReporter::emit(const skbtrail_drop_event& ev, std::span<const uint64_t> stack, const netfilter::Blame* blame,
                        std::span<const uint8_t> capture, Output& out) {
  const std::string& location = names_.describe(ev.location);
  const std::string& reason = reason_name(ev.reason);
  if (pcap_) write_pcap(ev, reason, pseudo_reason(ev.location, location), location, blame, capture, out);
  DropDiagnosis diagnosis;
  const Rule* rule = nullptr;
  const bool diagnosed = rules_ && diagnose(ev, reason, location, stack, blame, diagnosis, rule);
  if (diagnosed) {
    auto& entry = by_cause_[rule->name];
    if (!entry.count) entry = {rule, diagnosis.cause, diagnosis.advice, 0};
    ++entry.count;
    if (quiet_ && !is_abnormal(*rule)) return;  // counted, not printed
  }
  out.write(DropRecord{&ev, has_reason_, reason, pseudo_reason(ev.location, location), location,
                       diagnosed ? &diagnosis : nullptr, {&names_, stack}, blame});
}

void DropReporter::lost(size_t table, int cpu, uint64_t count, Output& out) {
  lost_ += count;
  Reporter::lost(table, cpu, count, out);
}

DropSummaryRecord DropReporter::summary() const {
  DropSummaryRecord s;
  s.drops = events_;
  s.lost = lost_;
  for (const auto& [key, count] : by_reason_location_)
    s.by_reason_location.push_back({reason_name(key.first), names_.describe(key.second), count});
  auto& rows = s.by_reason_location;
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {  // the order names give
    return std::tie(a.reason, a.location) < std::tie(b.reason, b.location);
  });
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  if (rules_) {
    std::vector<const CauseCount*> causes;
    for (const auto& [name, entry] : by_cause_) causes.push_back(&entry);
    std::stable_sort(causes.begin(), causes.end(), [](const CauseCount* a, const CauseCount* b) {
      return is_abnormal(*a->rule) != is_abnormal(*b->rule) ? is_abnormal(*a->rule) : a->count > b->count;
    });
    for (const auto* c : causes) s.causes.push_back({c->count, c->rule->level, c->rule->name, c->example_cause, c->advice});
  }
  return s;
}

void DropReporter::end(Output& out) {
  if (blame_) blame_->finish(out);
  if (pcap_ && !pcap_->flush()) fmt::print(stderr, "skbtrail drop: {}\n", pcap_->error());
  if (summary_) out.write(summary());
}

}  // namespace skbtrail
