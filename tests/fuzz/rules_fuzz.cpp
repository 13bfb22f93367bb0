// Diagnosis rules (scripts/drop.rules, scripts/rst.rules, --rules FILE):
// parsed, then matched and expanded the way drop --diag and rst use them.
#include <cstdint>
#include <string>

#include "runner/data/rules.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accept_or_refuse(
      [&] {
        const RuleSet rules = RuleSet::parse(fuzz::text_of(data, size), "fuzz.rules");
        RuleFacts facts;
        facts.values = {{"source", "tcp_v4_send_reset"}, {"reason", "NO_SOCKET"}, {"state", "TCP_LISTEN"},
                        {"sock", "none"}, {"location", "tcp_v4_rcv"}};
        facts.stack = {"tcp_v4_send_reset", "tcp_v4_rcv", "ip_local_deliver_finish"};
        facts.vars = {{"saddr", "10.0.0.1"}, {"sport", "80"}, {"rule", "handle 7: tcp dport 80 counter drop"}};
        if (const Rule* rule = rules.match(facts)) {
          (void)expand_placeholders(rule->cause, facts.vars);
          (void)expand_placeholders(rule->advice, facts.vars);
        }
        (void)rules.pseudo_reason_of("tcp_v4_rcv");
        for (const auto& rule : rules.rules()) (void)is_abnormal(rule);
      },
      "fuzz.rules");
  return 0;
}
