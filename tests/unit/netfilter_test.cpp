// Rule blame's pure half: libnftables' JSON listing (a real one, saved from
// `nft -j -a list ruleset` of tests/fixtures/nftables/ruleset.json's
// ruleset: an inet table of nft rules with and without counters, a jump to a
// regular chain, an ip6 chain with policy drop, and iptables-nft's tables),
// nft's text of the rules, and which rule a drop is blamed on.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <sstream>

#include "runner/netfilter/blame.h"
#include "runner/netfilter/readers.h"
#include "runner/netfilter/ruleset.h"

namespace skbtrail::netfilter {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(SKBTRAIL_FIXTURES) + "/nftables/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const Ruleset& real_ruleset() {
  static const Ruleset set = parse_nftables_json(fixture("ruleset.json"));
  return set;
}

NetfilterRule& rule_with(Ruleset& set, const std::string& table, uint64_t handle) {
  for (auto& r : set.rules)
    if (r.table == table && r.handle == handle && r.family != "ip") return r;
  throw std::runtime_error("no rule " + table + " " + std::to_string(handle));
}

// A packet to 127.0.0.1:dport over TCP (or UDP).
BlameQuery to_port(int dport, int proto = 6, const std::string& saddr = "127.0.0.1") {
  BlameQuery q;
  q.packet.ip_version = 4;
  q.packet.l4_proto = proto;
  q.packet.saddr = saddr;
  q.packet.daddr = "127.0.0.1";
  q.packet.sport = 40000;
  q.packet.dport = dport;
  return q;
}

TEST(NftablesJson, ChainsRulesVerdictsCountersAndBackends) {
  const Ruleset& set = real_ruleset();
  EXPECT_TRUE(set.errors.empty());
  const NetfilterRule* counted = nullptr;
  const NetfilterRule* uncounted = nullptr;
  for (const auto& r : set.rules) {
    if (r.family == "inet" && r.handle == 4) counted = &r;
    if (r.family == "inet" && r.handle == 5) uncounted = &r;
  }
  ASSERT_NE(counted, nullptr);
  ASSERT_NE(uncounted, nullptr);
  EXPECT_EQ(counted->backend, Backend::Nftables);
  EXPECT_EQ(counted->verdict, "drop");
  EXPECT_TRUE(counted->counter.present);
  EXPECT_EQ(counted->position, 1u);
  EXPECT_FALSE(uncounted->counter.present);
  EXPECT_EQ(uncounted->position, 2u);
  // iptables-nft's tables are told apart; REJECT stays an xtables target.
  int iptables_rules = 0;
  for (const auto& r : set.rules)
    if (r.family == "ip" && r.table == "filter") {
      ++iptables_rules;
      EXPECT_EQ(r.backend, Backend::IptablesNft);
      EXPECT_TRUE(r.chain == "INPUT" ? r.verdict == "drop" : r.verdict == "reject") << r.chain << " " << r.verdict;
    }
  EXPECT_EQ(iptables_rules, 2);
}

TEST(NftablesJson, JumpsCarryTheHookAndUnreachedChainsHaveNone) {
  const Ruleset& set = real_ruleset();
  for (const auto& c : set.chains) {
    if (c.table != "filter" || c.family != "inet") continue;
    if (c.name == "input" || c.name == "udp_checks") {
      EXPECT_EQ(c.reached_from, std::set<std::string>{"input"}) << c.name;
    }
    if (c.name == "unused") {
      EXPECT_TRUE(c.reached_from.empty());
    }
  }
}

TEST(NftablesJson, ConditionsRuleOutPacketsTheyCannotMatch) {
  Ruleset set = real_ruleset();
  const auto& by_port = rule_with(set, "filter", 4);     // tcp dport 8081
  const auto& by_set = rule_with(set, "filter", 7);      // ip saddr 10.0.0.0/8 udp dport { 53, 100-200 }
  const auto& negated = rule_with(set, "filter", 9);     // tcp dport != 22 tcp dport 9000-9100
  EXPECT_TRUE(by_port.may_match(to_port(8081).packet));
  EXPECT_FALSE(by_port.may_match(to_port(8082).packet));
  EXPECT_FALSE(by_port.may_match(to_port(8081, 17).packet));  // tcp dport implies TCP
  EXPECT_TRUE(by_set.may_match(to_port(150, 17, "10.1.2.3").packet));
  EXPECT_TRUE(by_set.may_match(to_port(53, 17, "10.1.2.3").packet));
  EXPECT_FALSE(by_set.may_match(to_port(150, 17, "192.168.0.1").packet));
  EXPECT_FALSE(by_set.may_match(to_port(201, 17, "10.1.2.3").packet));
  EXPECT_TRUE(negated.may_match(to_port(9050).packet));
  EXPECT_FALSE(negated.may_match(to_port(22).packet));
  // Unknown facts never exclude.
  BlameQuery unknown;
  EXPECT_TRUE(by_port.may_match(unknown.packet));
}

TEST(NftablesJson, MalformedJsonIsNamed) {
  EXPECT_THROW(parse_nftables_json("{"), std::runtime_error);
  EXPECT_THROW(parse_nftables_json("{\"tables\":[]}"), std::runtime_error);
  EXPECT_TRUE(parse_nftables_json("{\"nftables\":[{\"rule\":7},{\"chain\":{}}]}").rules.empty());
}

TEST(NftablesText, RuleTextsByHandleWithoutBlocks) {
  const auto texts = nftables_rule_texts(fixture("input_chain.txt"));
  ASSERT_EQ(texts.size(), 5u);
  EXPECT_EQ(texts[0], (std::pair<uint64_t, std::string>{4, "tcp dport 8081 counter drop"}));
  EXPECT_EQ(texts[1], (std::pair<uint64_t, std::string>{5, "tcp dport 8084 drop"}));
  EXPECT_EQ(texts[4].second, "tcp dport != 22 tcp dport 9000-9100 counter reject with tcp reset");
}

TEST(Blame, OneCounterMovedIsExact) {
  const Ruleset& before = real_ruleset();
  Ruleset after = before;
  rule_with(after, "filter", 4).counter.packets = 2;
  const Blame b = blame(before, after, to_port(8081));
  ASSERT_EQ(b.certainty, Certainty::Exact) << b.note;
  EXPECT_EQ(b.rules.front().handle, 4u);
  EXPECT_EQ(certainty_name(b.certainty), "exact");
}

TEST(Blame, TwoDropRulesOnlyTheMatchingOneIsBlamed) {
  // Both counters moved (two drops in one read interval); the packet's port
  // rules one of them out.
  const Ruleset& before = real_ruleset();
  Ruleset after = before;
  rule_with(after, "filter", 4).counter.packets = 1;
  rule_with(after, "filter", 9).counter.packets = 1;
  EXPECT_EQ(blame(before, after, to_port(8081)).rules.front().handle, 4u);
  EXPECT_EQ(blame(before, after, to_port(9001)).rules.front().handle, 9u);
  EXPECT_EQ(blame(before, after, to_port(9001)).certainty, Certainty::Exact);
}

TEST(Blame, SeveralThatCouldMatchAreAmbiguousAndListed) {
  const Ruleset& before = real_ruleset();
  Ruleset after = before;
  rule_with(after, "filter", 4).counter.packets = 1;
  rule_with(after, "filter", 9).counter.packets = 1;
  BlameQuery any_tcp;  // no port known: both could match
  any_tcp.packet.ip_version = 4;
  any_tcp.packet.l4_proto = 6;
  const Blame b = blame(before, after, any_tcp);
  EXPECT_EQ(b.certainty, Certainty::Ambiguous);
  EXPECT_EQ(b.rules.size(), 2u);
  EXPECT_EQ(blame_line(b), "ambiguous: 2 candidates");
}

TEST(Blame, NoCounterMovedListsTheRulesWithoutCounters) {
  const Ruleset& set = real_ruleset();
  const Blame b = blame(set, set, to_port(8084));
  ASSERT_EQ(b.certainty, Certainty::NoCounters);
  ASSERT_EQ(b.rules.size(), 1u);
  EXPECT_EQ(b.rules.front().handle, 5u);
  EXPECT_NE(b.note.find("add `counter`"), std::string::npos) << b.note;
}

TEST(Blame, TheHookSeenByKprobesNarrowsTheChains) {
  const Ruleset& before = real_ruleset();
  Ruleset after = before;
  rule_with(after, "filter", 4).counter.packets = 1;
  BlameQuery q = to_port(8081);
  q.hook = "output";  // the inet input chain cannot have dropped it
  EXPECT_NE(blame(before, after, q).certainty, Certainty::Exact);
  q.hook = "input";
  EXPECT_EQ(blame(before, after, q).certainty, Certainty::Exact);
}

TEST(Blame, ARegularChainIsBlamedThroughItsJump) {
  const Ruleset& before = real_ruleset();
  Ruleset after = before;
  rule_with(after, "filter", 10).counter.packets = 1;  // udp_checks: udp dport 5353 counter drop
  const auto& rule = rule_with(after, "filter", 10);
  ASSERT_EQ(rule.chain, "udp_checks");
  BlameQuery q = to_port(5353, 17);
  q.hook = "input";
  EXPECT_EQ(blame(before, after, q).certainty, Certainty::Exact);
}

TEST(Blame, NothingMovedInAChainWithPolicyDropIsThePolicy) {
  const Ruleset& set = real_ruleset();
  BlameQuery q;
  q.packet.ip_version = 6;
  q.packet.l4_proto = 17;
  q.packet.daddr = "2001:db8::1";
  q.hook = "forward";
  const Blame b = blame(set, set, q);
  ASSERT_EQ(b.certainty, Certainty::Policy) << b.note;
  EXPECT_EQ(chain_label(b.chains.front()), "ip6 strict forward");
  EXPECT_EQ(blame_line(b), "policy drop of ip6 strict forward");
}

TEST(Blame, IptablesRulesPrintAsIptablesDoes) {
  NetfilterRule r;
  r.backend = Backend::IptablesLegacy;
  r.family = "ip";
  r.table = "nat";
  r.chain = "PREROUTING";
  r.position = 3;
  r.verdict = "drop";
  EXPECT_EQ(rule_line(r), "-t nat rule 3 of PREROUTING (drop)");
  r.text = "-A PREROUTING -p tcp -j DROP";
  EXPECT_EQ(rule_line(r), "-t nat -A PREROUTING -p tcp -j DROP");
  EXPECT_EQ(chain_label(r), "nat PREROUTING (iptables-legacy)");
  EXPECT_EQ(list_chain_command(r.backend, r.family, r.table, r.chain),
            "iptables-legacy -t nat -L PREROUTING -n -v --line-numbers");
}

}  // namespace
}  // namespace skbtrail::netfilter

namespace skbtrail::netfilter {
namespace {

// A kernel without nfnetlink, made in a child: seccomp fails its socket
// with EPROTONOSUPPORT, as such a kernel does. libnftables exit()s the
// process when it cannot open that socket; the reader must say "no nftables
// ruleset" and go on to iptables-legacy instead (the tool's probes are
// attached when it reads, so an exit there would leave them behind).
bool refuse_nfnetlink_sockets() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[2])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NETLINK_NETFILTER, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPROTONOSUPPORT),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

TEST(RulesetReaderNoNfnetlink, SaysSoInsteadOfExiting) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    if (!refuse_nfnetlink_sockets()) _exit(20);
    RulesetReader reader;
    const Ruleset set = reader.read(current_netns());
    std::string errors;
    for (const auto& e : set.errors) errors += e + "\n";
    if (write(fds[1], errors.data(), errors.size()) < 0) _exit(21);
    _exit(0);
  }
  close(fds[1]);
  std::string errors;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) errors.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the reader died of signal " << WTERMSIG(status);
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the reader's process exited with " << WEXITSTATUS(status)
                                    << " (3 is libnftables' exit for no netlink socket)";
  if (!RulesetReader().describe().front().starts_with("nftables, iptables-nft: libnftables"))
    GTEST_SKIP() << "libnftables is not installed here: " << RulesetReader().describe().front();
  EXPECT_NE(errors.find("no nftables ruleset: this kernel has no nfnetlink (socket(NETLINK_NETFILTER): "
                        "Protocol not supported)"),
            std::string::npos)
      << errors;
}

}  // namespace
}  // namespace skbtrail::netfilter
