// Reading a network namespace's rulesets with the netfilter project's own
// libraries: libnftables (nftables and iptables-nft, as JSON with handles
// and counters) and libiptc (iptables-legacy). Both are loaded with dlopen:
// skbtrail runs where they are absent, without rule blame, and says why.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runner/netfilter/netns.h"
#include "runner/netfilter/ruleset.h"

namespace skbtrail::netfilter {

class RulesetReader {
 public:
  RulesetReader();  // loads what is there; never throws
  ~RulesetReader();
  RulesetReader(const RulesetReader&) = delete;
  RulesetReader& operator=(const RulesetReader&) = delete;

  // Whether any backend can be read, and what each one is.
  bool available() const;
  // One line per backend: "nftables, iptables-nft: libnftables.so.1" or
  // "iptables-legacy: libip4tc.so.2 not found (install libip4tc2)".
  std::vector<std::string> describe() const;

  // Everything readable in the calling thread's network namespace, whose
  // inode is `netns` (libnftables' socket is bound to the namespace it was
  // opened in, so each namespace keeps its own). Errors go to Ruleset::errors.
  Ruleset read(uint64_t netns);
  // rule.text as its own tool prints it: nft's text of the rule
  // ("tcp dport 8081 counter drop"), `iptables -S`' for iptables rules
  // ("-A INPUT -p tcp -m tcp --dport 8081 -j DROP"). Calling thread in the
  // rule's namespace.
  void fill_text(NetfilterRule& rule, uint64_t netns);

 private:
  struct Nftables;
  struct Iptc;
  std::unique_ptr<Nftables> nft_;
  std::unique_ptr<Iptc> iptc_;
};

}  // namespace skbtrail::netfilter
