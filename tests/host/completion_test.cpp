// The bash completion (packaging/skbtrail.bash-completion) against the
// binary under test: commands, options, profiles, hop lists, scripts.
#include <gtest/gtest.h>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

const std::string kCompletion = std::string(SKBTRAIL_TESTS_DIR) + "/../packaging/skbtrail.bash-completion";

// COMPREPLY for the words typed (the last one is being completed).
std::string complete(const std::string& words) {
  const auto r = run_shell("bash -c '. " + kCompletion + "; COMP_WORDS=(" + skbtrail() + " " + words +
                           "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _skbtrail; echo \"${COMPREPLY[*]}\"'");
  return r.out;
}

TEST(Completion, CommandsOptionsProfilesHopsScripts) {
  EXPECT_EQ(complete("dro"), "drop\n");
  EXPECT_EQ(complete("drop --dp"), "--dport\n");
  EXPECT_EQ(complete("trace --icm"), "--icmpid\n");
  EXPECT_EQ(complete("run ipt"), "iptables\n");
  // run NAME takes the options of the command it runs (iptables: trace).
  EXPECT_EQ(complete("run iptables --icm"), "--icmpid\n");
  EXPECT_EQ(complete("trace --probes ip_rcv,ip_local_deliver_f"), "ip_rcv,ip_local_deliver_finish\n");
  EXPECT_EQ(complete("trace --exclude tp:skb:kf"), "tp:skb:kfree_skb\n");
  EXPECT_EQ(complete("list --print rs"), "rst.bt\n");
  EXPECT_EQ(complete("drop --headers b"), "btf\n");
}

TEST(Completion, WordsComeFromTheBinary) {
  const auto r = run_shell(skbtrail() + " __complete options check");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--all-trees\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--kernel-headers\n"), std::string::npos) << r.out;
  const auto probes = run_shell(skbtrail() + " __complete probes");
  // A hop with a line per kernel range is one word.
  size_t count = 0;
  for (size_t at = probes.out.find("\nip_rcv_finish\n"); at != std::string::npos;
       at = probes.out.find("\nip_rcv_finish\n", at + 1))
    ++count;
  EXPECT_EQ(count, 1u) << probes.out;
}

// Manual pages come from --help: every option --help names is on the page.
TEST(Manual, PagesSayWhatHelpSays) {
  const auto page = run_shell(skbtrail() + " __man trace");
  EXPECT_EQ(page.exit_code, 0);
  EXPECT_EQ(page.out.rfind(".TH SKBTRAIL-TRACE 8", 0), 0u) << page.out;
  EXPECT_NE(page.out.find("\\fB\\-\\-iptable\\fR"), std::string::npos) << page.out;
  EXPECT_NE(page.out.find(".SH EXAMPLES"), std::string::npos) << page.out;
  const auto help = run_shell(skbtrail() + " trace --help");
  EXPECT_NE(help.out.find("--iptable"), std::string::npos);
  const auto top = run_shell(skbtrail() + " __man");
  EXPECT_NE(top.out.find("\\fBskbtrail\\-drop\\fR(8)"), std::string::npos) << top.out;
  // Rendered by man, the page reads as text.
  if (run_shell("command -v man").exit_code == 0) {
    const auto rendered = run_shell(skbtrail() + " __man drop > /tmp/skbtrail-drop-test.8 && man -P cat -l /tmp/skbtrail-drop-test.8");
    EXPECT_NE(rendered.out.find("--diag-quiet"), std::string::npos) << rendered.out;
  }
  EXPECT_NE(run_shell(skbtrail() + " __man nope").exit_code, 0);
}

}  // namespace
}  // namespace skbtrail::test
