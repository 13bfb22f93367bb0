// A netfilter ruleset as rule blame reads it: every chain with the hooks it
// is reached from, every rule with its verdict, its counter and the simple
// packet matches that can rule it out for a given packet. Filled from
// libnftables' JSON listing (nftables and iptables-nft) or from libiptc
// (iptables-legacy): runner/netfilter/readers.h.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace skbtrail::netfilter {

// Who owns a rule, which decides how it is printed and listed.
enum class Backend { Nftables, IptablesNft, IptablesLegacy };
std::string_view backend_name(Backend backend);  // "nftables", "iptables-nft", "iptables-legacy"

// What a packet is, for ruling out candidates (the drop event's tuple).
struct PacketFacts {
  int ip_version = 0;  // 4, 6 or 0 (not IP)
  int l4_proto = -1;   // IPPROTO_*, -1 unknown
  std::string saddr, daddr;
  int sport = -1, dport = -1;
};

// One simple match of a rule ("tcp dport 8081", "ip saddr 10.0.0.0/8",
// "meta l4proto udp"): anything more complex is not kept, so it never rules
// a rule out.
struct Condition {
  enum class Field { L4Proto, Sport, Dport, Saddr, Daddr };
  Field field = Field::Dport;
  bool negated = false;
  int ip_version = 0;     // Saddr/Daddr: 4 or 6
  int l4_proto = -1;      // Sport/Dport: the protocol the port belongs to (tcp dport implies tcp)
  struct Range {
    uint64_t low = 0, high = 0;
  };
  std::vector<Range> numbers;  // L4Proto, ports: values or ranges
  struct Prefix {
    std::string address;  // as written
    int length = -1;      // -1: the whole address
  };
  std::vector<Prefix> prefixes;  // addresses
  // False when this packet certainly does not match (unknown facts never exclude).
  bool may_match(const PacketFacts& packet) const;
};

struct RuleCounter {
  bool present = false;
  uint64_t packets = 0, bytes = 0;
};

struct NetfilterRule {
  Backend backend = Backend::Nftables;
  std::string family;  // ip ip6 inet arp bridge netdev
  std::string table, chain;
  uint64_t handle = 0;    // nft's handle; iptables-legacy: the position
  unsigned position = 0;  // 1-based in its chain (iptables -S CHAIN N)
  std::string verdict;    // drop reject accept jump goto return queue, "" when the rule continues
  std::string target;     // jump/goto: the chain
  RuleCounter counter;
  std::vector<Condition> conditions;
  std::string text;  // as its tool prints it; filled when the rule is blamed

  bool drops() const { return verdict == "drop" || verdict == "reject"; }
  bool same_rule(const NetfilterRule& other) const;
  bool may_match(const PacketFacts& packet) const;
};

struct NetfilterChain {
  Backend backend = Backend::Nftables;
  std::string family, table, name;
  std::string hook;    // base chains: prerouting input forward output postrouting ingress; "" otherwise
  std::string policy;  // base chains: accept | drop
  RuleCounter policy_counter;  // iptables-legacy counts its built-in chains' policies
  std::set<std::string> reached_from;  // the hooks whose base chains reach it (jump/goto)
};

struct Ruleset {
  std::vector<NetfilterChain> chains;
  std::vector<NetfilterRule> rules;
  std::vector<std::string> errors;  // one per backend that could not be read

  const NetfilterChain* chain_of(const NetfilterRule& rule) const;
  const NetfilterRule* find(const NetfilterRule& rule) const;
  // Fills every chain's reached_from by following jumps and gotos from the
  // base chains of its table.
  void link();
  void append(Ruleset&& other);
};

// "inet filter input" (nft's words) or "filter INPUT" (iptables').
std::string chain_label(const NetfilterRule& rule);
std::string chain_label(const NetfilterChain& chain);
// How to see the chain as its tool lists it, handles/counters included.
std::string list_chain_command(Backend backend, const std::string& family, const std::string& table,
                               const std::string& chain);

// libnftables' JSON listing (`nft -j -a list ruleset`) -> chains and rules.
// Tables that iptables-nft manages are marked so. Throws std::runtime_error
// naming what is malformed.
Ruleset parse_nftables_json(std::string_view json);

// nft's own text of each rule of a listing made with handles
// (`nft -a list chain ...`, stateless): handle -> "tcp dport 8081 counter drop".
std::vector<std::pair<uint64_t, std::string>> nftables_rule_texts(std::string_view listing);

// The netfilter hooks as nft names them, from the kernel's numbers
// (NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING): 1 -> "input".
std::string nft_hook_name(uint8_t hook);

}  // namespace skbtrail::netfilter
