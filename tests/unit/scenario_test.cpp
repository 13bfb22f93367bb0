#include "scenario_driver/scenario.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "scenario_driver/host_bundles.h"

namespace skbtrail::scenarios {
namespace {

constexpr const char* kTwo = R"(# two scenarios in one file
NAME first one
WHERE vm
REQUIRES root kprobes
REQUIRES kernel>=5.17 tracepoint:skb:kfree_skb
SETUP
  ip netns add $NS
  ip -n $NS link set lo up

RUN $SKBTRAIL drop --dport 9 -c 1
READY attached tracepoint
TRIGGER ip netns exec $NS true
EXPECT NO_SOCKET
EXPECT_REGEX tcp_v4_rcv\+0x[0-9a-f]+
EXPECT_NOT dport 10
TIMEOUT 300
EXIT 0
CLEANUP
  ip netns del $NS

NAME second
RUN true
EXPECT x
XFAIL proves the driver fails
)";

TEST(ScenarioParse, KeysBlocksAndDefaults) {
  const auto all = parse_scenarios(kTwo, "a.scn");
  ASSERT_EQ(all.size(), 2u);
  const Scenario& s = all[0];
  EXPECT_EQ(s.name, "first one");
  EXPECT_EQ(s.line, 2);
  EXPECT_EQ(s.where, "vm");
  EXPECT_EQ(s.requires_, (std::vector<std::string>{"root", "kprobes", "kernel>=5.17", "tracepoint:skb:kfree_skb"}));
  EXPECT_EQ(s.setup, "ip netns add $NS\nip -n $NS link set lo up\n");
  EXPECT_EQ(s.run, "$SKBTRAIL drop --dport 9 -c 1");
  EXPECT_EQ(s.ready, "attached tracepoint");
  EXPECT_EQ(s.trigger, "ip netns exec $NS true\n");
  EXPECT_EQ(s.expect, std::vector<std::string>{"NO_SOCKET"});
  EXPECT_EQ(s.expect_regex.size(), 1u);
  EXPECT_EQ(s.expect_not, std::vector<std::string>{"dport 10"});
  EXPECT_EQ(s.timeout_s, 300);
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(all[1].exit_code, std::nullopt);
  EXPECT_EQ(s.cleanup, "ip netns del $NS\n");
  EXPECT_EQ(all[1].where, "any");
  EXPECT_EQ(all[1].ready, "attached");
  EXPECT_EQ(all[1].timeout_s, 60);
  EXPECT_EQ(all[1].xfail, "proves the driver fails");
}

std::string error_of(const std::string& text) {
  try {
    parse_scenarios(text, "bad.scn");
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(ScenarioParse, ErrorsCarryFileAndLine) {
  EXPECT_EQ(error_of("RUN true\n"), "bad.scn:1: RUN before the first NAME");
  EXPECT_EQ(error_of("NAME a\nRUN true\nEXPECT x\nFROB y\n"), "bad.scn:4: unknown key 'FROB'");
  EXPECT_EQ(error_of("NAME a\nRUN true\nEXPECT x\nTIMEOUT soon\n"), "bad.scn:4: TIMEOUT takes whole seconds");
  EXPECT_EQ(error_of("NAME a\nRUN true\nEXPECT_REGEX (\n").rfind("bad.scn:3: EXPECT_REGEX does not compile: ", 0), 0u);
  EXPECT_EQ(error_of("NAME a\nRUN true\nEXPECT x\nEXIT -1\n"), "bad.scn:4: EXIT takes an exit code, 0-255");
  EXPECT_EQ(error_of("NAME a\nEXPECT x\n"), "bad.scn:1: scenario 'a' has no RUN");
  EXPECT_EQ(error_of("NAME a\nRUN true\n"), "bad.scn:1: scenario 'a' checks nothing (add EXPECT)");
  EXPECT_EQ(error_of("NAME a\nWHERE moon\n"), "bad.scn:2: WHERE must be host, vm or any");
  EXPECT_EQ(error_of("NAME a\n  stray\n"), "bad.scn:2: indented line outside a SETUP/RUN/TRIGGER/CLEANUP block");
}

TEST(ScenarioRequirements, EachKindIsChecked) {
  Scenario s;
  s.file = "x.scn";
  Facts facts;
  facts.root = true;
  facts.version_code = (6u << 16) + (1u << 8);
  facts.has_tracepoint = [](const std::string& n) { return n == "skb:kfree_skb"; };
  facts.has_function = [](const std::string& n) { return n == "tcp_v4_send_reset"; };
  facts.has_command = [](const std::string& n) { return n == "ip"; };

  s.requires_ = {"root", "kernel>=5.17", "kernel<6.2", "tracepoint:skb:kfree_skb", "function:tcp_v4_send_reset",
                 "command:ip"};
  EXPECT_EQ(unmet_requirement(s, facts), std::nullopt);
  s.requires_ = {"root", "kprobes"};
  EXPECT_EQ(unmet_requirement(s, facts), "kprobes (this kernel has none)");
  s.requires_ = {"kernel>=6.10"};
  EXPECT_EQ(unmet_requirement(s, facts), "kernel>=6.10");
  s.requires_ = {"tracepoint:tcp:tcp_send_reset"};
  EXPECT_EQ(unmet_requirement(s, facts), "tracepoint:tcp:tcp_send_reset");
  s.requires_ = {"function:tcp_drop"};
  EXPECT_EQ(unmet_requirement(s, facts), "function:tcp_drop");
  s.requires_ = {"command:hping3"};
  EXPECT_EQ(unmet_requirement(s, facts), "command:hping3");
  ::setenv("SKBTRAIL_TEST_SET", "x", 1);
  ::unsetenv("SKBTRAIL_TEST_UNSET");
  s.requires_ = {"env:SKBTRAIL_TEST_SET"};
  EXPECT_EQ(unmet_requirement(s, facts), std::nullopt);
  s.requires_ = {"env:SKBTRAIL_TEST_UNSET"};
  EXPECT_EQ(unmet_requirement(s, facts), "env:SKBTRAIL_TEST_UNSET");
  s.requires_ = {"headers"};
  EXPECT_EQ(unmet_requirement(s, facts), "headers of the running kernel");
  s.requires_ = {"!kprobes", "!headers"};
  EXPECT_EQ(unmet_requirement(s, facts), std::nullopt);
  facts.kprobes = true;
  EXPECT_EQ(unmet_requirement(s, facts), "!kprobes (this kernel has it)");
  s.requires_ = {"moon"};
  EXPECT_THROW(unmet_requirement(s, facts), ScenarioError);
}

// RHEL 7 is a kernel of its own for scenarios (its 3.10 has 4.x backports),
// and TAGS name the suites a scenario belongs to.
TEST(ScenarioRequirements, Rhel7AndTags) {
  Scenario s;
  Facts facts;
  facts.version_code = (3u << 16) + (10u << 8);
  s.requires_ = {"rhel7"};
  EXPECT_EQ(unmet_requirement(s, facts), "rhel7 (not RHEL 7's kernel)");
  facts.rhel7 = true;
  EXPECT_EQ(unmet_requirement(s, facts), std::nullopt);
  s.requires_ = {"!rhel7"};
  EXPECT_EQ(unmet_requirement(s, facts), "!rhel7 (this kernel has it)");

  const auto parsed = parse_scenarios("NAME a\nTAGS legacy bpftrace\nRUN true\nEXPECT x\nNAME b\nRUN true\nEXPECT y\n",
                                      "t.scn");
  EXPECT_EQ(parsed[0].tags, (std::vector<std::string>{"legacy", "bpftrace"}));
  EXPECT_TRUE(has_any_tag(parsed[0], {"bpftrace"}));
  EXPECT_FALSE(has_any_tag(parsed[1], {"legacy"}));
  EXPECT_TRUE(has_any_tag(parsed[1], {}));  // no --tags: every scenario
}

TEST(ScenarioCheck, ExpectationsJudgeTheOutput) {
  Scenario s;
  s.expect = {"NO_SOCKET"};
  s.expect_regex = {R"("location":"tcp_v4_rcv\+0x[0-9a-f]+")"};
  s.expect_not = {"\"dport\":10"};
  EXPECT_EQ(check_output(s, R"({"reason":"NO_SOCKET","location":"tcp_v4_rcv+0x99","dport":9})"), "");
  EXPECT_EQ(check_output(s, R"({"reason":"NO_SOCKET","location":"ip_rcv+0x9","dport":9})"),
            R"(EXPECT_REGEX did not match: "location":"tcp_v4_rcv\+0x[0-9a-f]+")");
  EXPECT_EQ(check_output(s, "nothing"), "EXPECT not found: NO_SOCKET");
  EXPECT_EQ(check_output(s, R"({"reason":"NO_SOCKET","location":"tcp_v4_rcv+0x99","dport":10})"),
            "EXPECT_NOT found: \"dport\":10");
}

TEST(HostBundles, CommandLinesOfTheShellSnippets) {
  using Lines = std::vector<std::vector<std::string>>;
  EXPECT_EQ(skbtrail_command_lines("ip netns exec $NS $SKBTRAIL drop --dport 9 -c 1 --json"),
            (Lines{{"drop", "--dport", "9", "-c", "1", "--json"}}));
  // Redirections, pipes and background jobs end a command; several per snippet.
  EXPECT_EQ(skbtrail_command_lines("  $SKBTRAIL rst --sport 9 --duration 15s --json 2>$WORK/a.err &\n"
                                   "  $SKBTRAIL rst -P 7 | head -1\n"),
            (Lines{{"rst", "--sport", "9", "--duration", "15s", "--json"}, {"rst", "-P", "7"}}));
  // Values only known at run time: bound at load time (netns, pid), read by
  // user space (rules), or unknown (the command is left out).
  EXPECT_EQ(skbtrail_command_lines("$SKBTRAIL rst -P 7002 -c 1 --netns $(stat -L -c %i /run/netns/$NS)"),
            (Lines{{"rst", "-P", "7002", "-c", "1", "--netns", "1"}}));
  EXPECT_EQ(skbtrail_command_lines("$SKBTRAIL drop --diag-quiet --rules $WORK/mine.rules --proto tcp"),
            (Lines{{"drop", "--diag-quiet", "--rules", "unused.rules", "--proto", "tcp"}}));
  // Output files do not shape the program: bundled with a stand-in path.
  EXPECT_EQ(skbtrail_command_lines("$SKBTRAIL trace --dport 9 --pcap $WORK/t.pcapng --snaplen 40"),
            (Lines{{"trace", "--dport", "9", "--pcap", "unused.pcapng", "--snaplen", "40"}}));
  EXPECT_TRUE(skbtrail_command_lines("$SKBTRAIL exec $SCENARIO_DIR/x.c -c 1").empty());
  EXPECT_EQ(skbtrail_command_lines("$SKBTRAIL trace -H 'fd00::2'"), (Lines{{"trace", "-H", "fd00::2"}}));
}

}  // namespace
}  // namespace skbtrail::scenarios
