#include "runner/tools/blame_queue.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "runner/output/packet_format.h"

namespace skbtrail {

netfilter::PacketFacts blame_packet(const skbtrail_packet& pkt, bool reversed) {
  netfilter::PacketFacts p;
  p.ip_version = pkt.l3_proto == 0x0800 ? 4 : pkt.l3_proto == 0x86DD ? 6 : 0;
  if (pkt.l4_proto) p.l4_proto = pkt.l4_proto;
  if (p.ip_version) {
    p.saddr = packet_address(pkt, !reversed);
    p.daddr = packet_address(pkt, reversed);
  }
  if (pkt.l4_proto == 6 || pkt.l4_proto == 17 || pkt.l4_proto == 132) {
    p.sport = packet_port(pkt, !reversed);
    p.dport = packet_port(pkt, reversed);
  }
  return p;
}

void blame_placeholders(const netfilter::Blame* b, std::map<std::string, std::string>& vars) {
  using netfilter::Certainty;
  std::string rule = "a rule", list = "nft -a list ruleset (or iptables -L -n -v --line-numbers)",
              chain;
  if (b && !b->rules.empty()) {
    const auto& r = b->rules.front();
    chain = netfilter::chain_label(r);
    list = netfilter::list_chain_command(r.backend, r.family, r.table, r.chain);
    if (b->certainty == Certainty::Exact)
      rule = r.backend == netfilter::Backend::Nftables ? fmt::format("`{}` (handle {})", r.text, r.handle)
                                                       : fmt::format("`{}`", r.text);
    else if (b->certainty == Certainty::Ambiguous)
      rule = fmt::format("one of {} rules", b->rules.size());
    else if (b->certainty == Certainty::NoCounters)
      rule = b->rules.size() == 1 ? fmt::format("`{}` (handle {}, no counter)", r.text, r.handle)
                                  : fmt::format("one of {} rules without a counter", b->rules.size());
  } else if (b && !b->chains.empty()) {
    const auto& c = b->chains.front();
    chain = netfilter::chain_label(c);
    list = netfilter::list_chain_command(c.backend, c.family, c.table, c.name);
    rule = "no rule (the chain's policy is drop)";
  }
  vars["rule"] = rule;
  vars["list_chain"] = list;
  vars["blamed_chain"] = chain.empty() ? "-" : chain;
}

BlameQueue::BlameQueue(const std::vector<uint64_t>& namespaces, const char* command)
    : own_netns_(netfilter::current_netns()) {
  if (!blamer_.available()) {
    std::fprintf(stderr, "skbtrail %s: rule blame skipped: %s\n", command, fmt::format("{}", fmt::join(blamer_.describe(), "; ")).c_str());
    return;
  }
  for (const uint64_t ns : namespaces) read(ns ? ns : own_netns_);
}

void BlameQueue::read(uint64_t netns) {
  std::string why;
  if (!blamer_.read(netns, why)) std::fprintf(stderr, "skbtrail: rule blame: %s\n", why.c_str());
}

void BlameQueue::push(uint64_t netns, uint64_t ts_ns, std::optional<netfilter::BlameQuery> query, Emit emit,
                      Output& out) {
  if (waiting_.empty() && !query) {
    emit(nullptr, out);
    return;
  }
  waiting_.push_back({netns ? netns : own_netns_, ts_ns, std::move(query), std::move(emit)});
  // Bounded: a storm that fills the queue within one read interval gets its
  // read now; the rate limit gives way to memory (at most one extra read
  // per kMaxWaiting events).
  drain(out, waiting_.size() >= kMaxWaiting);
}

void BlameQueue::drain(Output& out, bool final) {
  while (!waiting_.empty()) {
    Waiting& w = waiting_.front();
    if (w.query) {
      if (!blamer_.read_after(w.netns, w.ts_ns)) {
        const uint64_t now = netfilter::monotonic_ns();
        const uint64_t at = blamer_.next_read_at(w.netns);
        if (!final && at > now) {
          // Too soon after the last read: once the interval has passed.
          if (!timer_armed_ && control_) {
            if (!timer_) timer_ = std::make_unique<boost::asio::steady_timer>(control_->loop.context());
            timer_->expires_after(std::chrono::nanoseconds(at - now));
            timer_armed_ = true;
            timer_->async_wait([this](const boost::system::error_code& ec) {
              timer_armed_ = false;
              if (ec || !control_) return;
              drain(control_->out, false);
              control_->flush();
            });
          }
          return;
        }
        read(w.netns);
      }
      std::optional<netfilter::Blame> blame = blamer_.blame(w.netns, w.ts_ns, *w.query);
      if (!blame) {  // the namespace could not be read
        blame.emplace();
        blame->note = fmt::format("the rulesets of netns {} could not be read", w.netns);
      }
      w.emit(&*blame, out);
    } else {
      w.emit(nullptr, out);
    }
    waiting_.pop_front();
  }
}

void BlameQueue::finish(Output& out) {
  if (timer_) timer_->cancel();
  control_ = nullptr;
  drain(out, true);
}

}  // namespace skbtrail
