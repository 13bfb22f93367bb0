// Rule blame inside a session: a netfilter drop waits until the ruleset's
// counters have been read after it, then it (and everything that arrived
// behind it, so the output keeps its order) is printed with the rule. Reads
// are at least the blamer's interval apart (100 ms): a drop storm is one
// read per interval, each one blaming every drop before it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <memory>
#include <optional>

#include <boost/asio/steady_timer.hpp>

#include "programs/skbtrail_events.h"
#include "runner/netfilter/rule_blamer.h"
#include "runner/session/session.h"

namespace skbtrail {

// What the blamer knows of a packet; reversed: the packet is an answer (a
// RST) and the rule matched the segment it answers.
netfilter::PacketFacts blame_packet(const skbtrail_packet& pkt, bool reversed = false);
// The placeholders a blame gives to rule messages: {rule} reads as the
// subject of "... matched <packet>" ("`tcp dport 8081 counter drop`
// (handle 7)"), {list_chain} is how to see the chain, {blamed_chain} its
// name ("inet filter input"); defaults that say so when there is no blame.
void blame_placeholders(const netfilter::Blame* blame, std::map<std::string, std::string>& vars);

class BlameQueue {
 public:
  // What to print for one event, given its blame (nullptr when it wanted
  // none, or none could be had).
  using Emit = std::function<void(const netfilter::Blame*, Output&)>;

  // Reads the counters of these namespaces now (0: skbtrail's own), so that
  // the first drops have something to compare with; says on stderr, once,
  // when blame is off and why.
  BlameQueue(const std::vector<uint64_t>& namespaces, const char* command);

  bool enabled() const { return blamer_.available(); }
  // Nothing waits: an event without a query can be printed at once, with
  // no copy of it kept (the common case, on the per-event path).
  bool idle() const { return waiting_.empty(); }
  void started(SessionControl& control) { control_ = &control; }
  // An event in arrival order; `query` set when it is a netfilter drop to
  // blame. Printed at once when nothing waits.
  void push(uint64_t netns, uint64_t ts_ns, std::optional<netfilter::BlameQuery> query, Emit emit, Output& out);
  // At exit: one last read, then everything is printed.
  void finish(Output& out);

  uint64_t reads() const { return blamer_.reads(); }

 private:
  struct Waiting {
    uint64_t netns, ts_ns;
    std::optional<netfilter::BlameQuery> query;
    Emit emit;
  };
  // Prints what can be printed; reads (or arms the timer) for the first
  // event that waits.
  void drain(Output& out, bool final);
  void read(uint64_t netns);

  static constexpr size_t kMaxWaiting = 65536;  // events held for a counter read
  netfilter::RuleBlamer blamer_;
  uint64_t own_netns_;
  std::deque<Waiting> waiting_;
  SessionControl* control_ = nullptr;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  bool timer_armed_ = false;
};

}  // namespace skbtrail
