// Which rule dropped this packet? The ruleset's counters read before and
// after the drop: the rule whose counter moved, in a chain the packet's hook
// reaches, with a DROP/REJECT verdict, and whose simple matches do not rule
// the packet out. Nothing is added to the ruleset (no nftrace, no LOG).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runner/netfilter/ruleset.h"

namespace skbtrail::netfilter {

enum class Certainty {
  Exact,       // one candidate moved
  Ambiguous,   // several moved: all are listed
  NoCounters,  // none moved, and DROP/REJECT rules without a counter could have matched
  Policy,      // no rule: the base chain's policy is drop
  NotFound,    // nothing in the ruleset explains it
};
std::string_view certainty_name(Certainty certainty);  // "exact", "ambiguous", "no counters", ...

struct BlameQuery {
  PacketFacts packet;
  // The hook the drop happened in (nft's name, "input"), when kprobes saw
  // nf_hook_slow; empty: any hook.
  std::string hook;
};

struct Blame {
  Certainty certainty = Certainty::NotFound;
  std::vector<NetfilterRule> rules;     // Exact: one; Ambiguous/NoCounters: the candidates
  std::vector<NetfilterChain> chains;   // Policy: the base chains whose policy dropped it
  std::string note;                     // why it is not exact, in words
};

// The rules that explain one drop, from a snapshot taken before it and one
// taken after (`before` may be empty: the first read of a netns, every
// counter then counts from zero).
Blame blame(const Ruleset& before, const Ruleset& after, const BlameQuery& query);

// One line, for text output and rule messages:
//   inet filter input handle 7: tcp dport 8081 counter drop
std::string rule_line(const NetfilterRule& rule);
// The summary of a blame in one line ("inet filter input handle 7: ... (exact)").
std::string blame_line(const Blame& blame);

}  // namespace skbtrail::netfilter
