#include "runner/netfilter/blame.h"

#include <fmt/format.h>

namespace skbtrail::netfilter {

namespace {

// Whether a chain of this family sees packets of this IP version.
bool family_sees(const std::string& family, int ip_version) {
  if (family == "inet" || family == "bridge" || family == "netdev") return true;
  if (family == "ip") return ip_version != 6;
  if (family == "ip6") return ip_version != 4;
  return false;  // arp
}

bool chain_in_play(const NetfilterChain* chain, const BlameQuery& q) {
  if (!chain || !family_sees(chain->family, q.packet.ip_version)) return false;
  if (chain->reached_from.empty()) return false;  // not reached from any hook: never runs
  return q.hook.empty() || chain->reached_from.count(q.hook);
}

uint64_t moved_by(const Ruleset& before, const NetfilterRule& now) {
  const NetfilterRule* then = before.find(now);
  const uint64_t base = then && then->counter.present ? then->counter.packets : 0;
  return now.counter.packets > base ? now.counter.packets - base : 0;
}

}  // namespace

std::string_view certainty_name(Certainty c) {
  switch (c) {
    case Certainty::Exact: return "exact";
    case Certainty::Ambiguous: return "ambiguous";
    case Certainty::NoCounters: return "no counters";
    case Certainty::Policy: return "chain policy";
    case Certainty::NotFound: return "not found";
  }
  return "?";
}

Blame blame(const Ruleset& before, const Ruleset& after, const BlameQuery& q) {
  Blame b;
  std::vector<const NetfilterRule*> moved, uncounted;
  for (const auto& rule : after.rules) {
    if (!rule.drops() || !chain_in_play(after.chain_of(rule), q) || !rule.may_match(q.packet)) continue;
    if (!rule.counter.present) uncounted.push_back(&rule);
    else if (moved_by(before, rule) > 0) moved.push_back(&rule);
  }
  if (!moved.empty()) {
    b.certainty = moved.size() == 1 ? Certainty::Exact : Certainty::Ambiguous;
    for (const auto* r : moved) b.rules.push_back(*r);
    if (moved.size() > 1)
      b.note = fmt::format("{} DROP/REJECT rules that could match counted packets since the last read", moved.size());
    return b;
  }
  if (!uncounted.empty()) {
    b.certainty = Certainty::NoCounters;
    for (const auto* r : uncounted) b.rules.push_back(*r);
    b.note = fmt::format("no counted rule moved; {} DROP/REJECT rule{} that could match {} no counter: add `counter` "
                         "to see which",
                         uncounted.size(), uncounted.size() == 1 ? "" : "s", uncounted.size() == 1 ? "has" : "have");
    return b;
  }
  // No rule moved: a base chain whose policy drops. iptables-legacy counts
  // its policies, so one that moved is exact.
  std::vector<const NetfilterChain*> policies, counted;
  for (const auto& chain : after.chains) {
    if (chain.hook.empty() || chain.policy != "drop" || !chain_in_play(&chain, q)) continue;
    policies.push_back(&chain);
    if (chain.policy_counter.present) {
      uint64_t base = 0;
      for (const auto& then : before.chains)
        if (then.backend == chain.backend && then.family == chain.family && then.table == chain.table &&
            then.name == chain.name)
          base = then.policy_counter.packets;
      if (chain.policy_counter.packets > base) counted.push_back(&chain);
    }
  }
  if (!counted.empty()) policies = counted;
  if (!policies.empty()) {
    b.certainty = Certainty::Policy;
    for (const auto* c : policies) b.chains.push_back(*c);
    b.note = policies.size() == 1 ? "no rule matched: the chain's policy is drop"
                                  : fmt::format("no rule matched: {} chains have policy drop", policies.size());
    return b;
  }
  b.note = q.hook.empty() ? "no DROP/REJECT rule's counter moved in any chain"
                          : fmt::format("no DROP/REJECT rule's counter moved in the chains of hook {}", q.hook);
  return b;
}

std::string rule_line(const NetfilterRule& r) {
  if (r.backend == Backend::Nftables)
    return fmt::format("{} handle {}: {}", chain_label(r), r.handle, r.text.empty() ? r.verdict : r.text);
  // iptables' own form already names the chain (-A INPUT ...).
  return fmt::format("{}{}", r.table == "filter" ? "" : "-t " + r.table + " ",
                     r.text.empty() ? fmt::format("rule {} of {} ({})", r.position, r.chain, r.verdict) : r.text);
}

std::string blame_line(const Blame& b) {
  switch (b.certainty) {
    case Certainty::Exact: return fmt::format("{} (exact)", rule_line(b.rules.front()));
    case Certainty::Ambiguous: return fmt::format("ambiguous: {} candidates", b.rules.size());
    case Certainty::NoCounters: return fmt::format("no counters: {} candidate{}", b.rules.size(), b.rules.size() == 1 ? "" : "s");
    case Certainty::Policy:
      return fmt::format("policy drop of {}{}", chain_label(b.chains.front()),
                         b.chains.size() > 1 ? fmt::format(" (or {} more)", b.chains.size() - 1) : "");
    case Certainty::NotFound: return fmt::format("not found: {}", b.note);
  }
  return {};
}

}  // namespace skbtrail::netfilter
