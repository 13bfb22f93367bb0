// Diagnosis rules as data (scripts/rst.rules, scripts/drop.rules, --rules
// FILE): each rule matches facts about an event and names a cause, a level
// and advice. The first matching rule wins, in file order.
//
//   [name]
//   source  = tcp_v4_send_reset tcp_v6_send_reset   # any of these values
//   caller  = tcp_v4_rcv          # the first stack frame below the source
//   stack   = tcp_close           # anywhere in the first frames of the stack
//   reason  = NO_SOCKET           # drop reason / RST reason name
//   state   = TCP_LISTEN          # TCP state of the socket
//   sock    = none                # none | present
//   hook    = INPUT               # netfilter hook (chain)
//   location = tcp_v4_rcv         # drops: the function that freed the skb
//   verdict = DROP                # drops: the netfilter verdict (a drop inside a hook)
//   conntrack = invalid           # RSTs: conntrack called the answered segment INVALID
//   nat     = dnat                # then: the NAT its conntrack entry had (dnat snat none)
//   pseudo_reason = NO_SOCKET     # drops on kernels without reasons (< 5.17): the
//                                 # reason a `location` rule stands for, shown in
//                                 # the REASON column as ~NO_SOCKET
//   level   = warn                # info | warn | error
//   cause   = no listening socket on {saddr}:{sport}
//   advice  = start the service, or fix the port the client uses
//
// Every match key present must match; cause and advice take {placeholders}
// from the event. A rule with no match key matches everything (a fallback).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace skbtrail {

struct Rule {
  std::string name;
  std::map<std::string, std::vector<std::string>> match;
  std::string level = "info";
  std::string cause;
  std::string advice;
  std::string pseudo_reason;  // drops without reasons: what a location means
  std::string origin;  // file:line
};

struct RuleFacts {
  std::map<std::string, std::string> values;   // key -> value (source, reason, caller, state, ...)
  std::vector<std::string> stack;              // function names, innermost first
  std::map<std::string, std::string> vars;     // placeholders for cause/advice
};

class RuleSet {
 public:
  // Throws UsageError "SOURCE:LINE: what is wrong".
  static RuleSet parse(std::string_view text, const std::string& source);
  // The built-in rules of a bundled file, then the user's (their rules first,
  // so a user can override a built-in cause).
  static RuleSet load(const std::string& bundled_name, const std::vector<std::string>& user_files);

  const Rule* match(const RuleFacts& facts) const;
  // The pseudo-reason of the first rule naming `location` (a function)
  // that has one; "" when none does.
  std::string pseudo_reason_of(std::string_view location) const;
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

// "{dport}" and friends replaced from vars; unknown names are left as they are.
std::string expand_placeholders(const std::string& text, const std::map<std::string, std::string>& vars);

bool is_abnormal(const Rule& rule);  // warn or error: what --diag-quiet keeps

}  // namespace skbtrail
