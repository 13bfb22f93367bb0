#include "runner/data/rules.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "runner/common/errors.h"
#include "runner/kernel/kallsyms.h"
#include "runner/tools/rst/rst.h"
#include "runner/tools/rst/rst_reporter.h"
#include "runner/output/address_namer.h"

namespace skbtrail {
namespace {

std::string error_of(const std::string& text) {
  try {
    RuleSet::parse(text, "my.rules");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Rules, ParseAndFirstMatchWins) {
  const auto set = RuleSet::parse(
      "# comment\n"
      "[netfilter]\nsource = nf_send_reset nf_send_reset6\nlevel = error\ncause = REJECT in {hook}\n"
      "[listener]\nsource = tcp_v4_send_reset\nsock = none\ncaller = tcp_v4_rcv\nlevel = warn\n"
      "cause = nothing on {sport}\nadvice = start it\n"
      "[closing]\nstack = tcp_close\ncause = closed\n"
      "[other]\ncause = other\n",
      "my.rules");
  ASSERT_EQ(set.rules().size(), 4u);
  RuleFacts f;
  f.values = {{"source", "tcp_v4_send_reset"}, {"sock", "none"}, {"caller", "tcp_v4_rcv"}};
  f.vars = {{"sport", "9"}};
  const Rule* r = set.match(f);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "listener");
  EXPECT_EQ(r->level, "warn");
  EXPECT_EQ(expand_placeholders(r->cause, f.vars), "nothing on 9");
  EXPECT_TRUE(is_abnormal(*r));

  f.values["sock"] = "present";  // no longer the listener case
  f.stack = {"tcp_send_active_reset", "tcp_close", "inet_release"};
  EXPECT_EQ(set.match(f)->name, "closing");
  f.stack.clear();
  EXPECT_EQ(set.match(f)->name, "other");
  EXPECT_FALSE(is_abnormal(*set.match(f)));
}

TEST(Rules, PlaceholdersLeaveUnknownAndBracesAlone) {
  EXPECT_EQ(expand_placeholders("SO_LINGER {1,0} on {sport} {nope}", {{"sport", "80"}}), "SO_LINGER {1,0} on 80 {nope}");
  EXPECT_EQ(expand_placeholders("open { brace", {}), "open { brace");
}

TEST(Rules, ErrorsAreLineNumbered) {
  EXPECT_EQ(error_of("source = x\n"), "my.rules:1: a key before the first [rule]");
  EXPECT_EQ(error_of("[a]\ncause = c\nlevel = loud\n"), "my.rules:3: level 'loud': use info, warn or error");
  EXPECT_NE(error_of("[a]\ncolour = red\n").find("my.rules:2: unknown key 'colour'"), std::string::npos);
  EXPECT_EQ(error_of("[a]\nsource = x\n"), "my.rules:1: rule [a] has no cause = ...");
  EXPECT_EQ(error_of("[a]\njust words\n"), "my.rules:2: 'just words': expected key = value");
  EXPECT_EQ(error_of("[]\n"), "my.rules:1: '[]': a rule starts with [name]");
}

TEST(Rules, BuiltInFilesParseAndUserRulesComeFirst) {
  const auto rst = RuleSet::load("rst.rules", {});
  EXPECT_GE(rst.rules().size(), 10u);
  const auto drop = RuleSet::load("drop.rules", {});
  EXPECT_GE(drop.rules().size(), 8u);
  EXPECT_THROW(RuleSet::load("rst.rules", {"/nonexistent.rules"}), UsageError);
}

// The RST classifier on events like the kernel produces them.
class RstClassify : public ::testing::Test {
 protected:
  void SetUp() override {
    std::istringstream in(
        "ffffffff81000000 T tcp_v4_send_reset\nffffffff81001000 T tcp_v4_rcv\n"
        "ffffffff81002000 T tcp_send_active_reset\nffffffff81003000 T tcp_disconnect\n"
        "ffffffff81004000 T tcp_close\nffffffff81005000 T nf_send_reset\nffffffff81006000 T nft_reject_ipv4_eval\n"
        "ffffffff81007000 T tcp_reset\nffffffff81008000 T tcp_rcv_state_process\n");
    kallsyms_ = Kallsyms::parse(in);
  }
  std::string classify(skbtrail_rst_event ev, std::vector<uint64_t> stack) {
    RstReporter r(names_, rules_, {}, false);
    Output out(true, MonotonicToWall(0));
    r.report(ev, stack, out);
    return out.take();
  }
  static skbtrail_rst_event event(uint8_t source, bool sock) {
    skbtrail_rst_event ev{};
    ev.source = source;
    ev.skaddr = sock ? 0xffff888000001000 : 0;
    ev.netns = 4026531840;
    ev.pkt.l3_proto = 0x0800;
    ev.pkt.l4_proto = 6;
    ::inet_pton(AF_INET, "10.0.0.2", &ev.pkt.saddr[0]);
    ::inet_pton(AF_INET, "10.0.0.1", &ev.pkt.daddr[0]);
    ev.pkt.sport = htons(9);
    ev.pkt.dport = htons(40000);
    ev.pkt.tcp_flags = 0x04;
    std::strcpy(ev.comm, "server");
    return ev;
  }
  Kallsyms kallsyms_;
  AddressNamer names_{kallsyms_};
  RuleSet rules_ = RuleSet::load("rst.rules", {});
};

TEST_F(RstClassify, NoListenerFromTheCallerAndMissingSocket) {
  const auto out = classify(event(SKBTRAIL_RST_TCP_V4_SEND_RESET, false), {0xffffffff81000010, 0xffffffff81001234});
  EXPECT_NE(out.find("\"rule\":\"no-listener\""), std::string::npos) << out;
  EXPECT_NE(out.find("nothing listens on 10.0.0.2:9 in netns 4026531840"), std::string::npos) << out;
  EXPECT_NE(out.find("called from tcp_v4_rcv+0x234"), std::string::npos) << out;
  EXPECT_NE(out.find("\"socket\":false"), std::string::npos);
}

TEST_F(RstClassify, AbortsByCaller) {
  auto ev = event(SKBTRAIL_RST_ACTIVE_RESET, true);
  ev.state = 7;
  EXPECT_NE(classify(ev, {0xffffffff81002010, 0xffffffff81003040}).find("\"rule\":\"abort-linger\""), std::string::npos);
  EXPECT_NE(classify(ev, {0xffffffff81002010, 0xffffffff81004040}).find("\"rule\":\"closed-with-unread-data\""),
            std::string::npos);
}

TEST_F(RstClassify, NetfilterRejectNamesTheChain) {
  auto ev = event(SKBTRAIL_RST_NF_SEND_RESET, false);
  ev.hook = 1;
  const auto out = classify(ev, {0xffffffff81005010, 0xffffffff81006020});
  EXPECT_NE(out.find("\"rule\":\"netfilter-reject\""), std::string::npos) << out;
  EXPECT_NE(out.find("a rule in the INPUT chain"), std::string::npos) << out;
  EXPECT_NE(out.find("\"level\":\"error\""), std::string::npos);
}

TEST_F(RstClassify, InvalidSegmentOnASocketAndReceivedResets) {
  auto ev = event(SKBTRAIL_RST_TCP_V4_SEND_RESET, true);
  ev.state = 1;
  const auto out = classify(ev, {0xffffffff81000010, 0xffffffff81008010});
  EXPECT_NE(out.find("\"rule\":\"invalid-segment\""), std::string::npos) << out;
  EXPECT_NE(out.find("nf_conntrack_tcp_be_liberal=1"), std::string::npos);
  EXPECT_NE(classify(event(SKBTRAIL_RST_TCP_RESET, true), {0xffffffff81007010}).find("\"rule\":\"rst-received\""),
            std::string::npos);
}

// The Docker/Kubernetes story: conntrack calls an out-of-window reply
// INVALID, its DNAT entry is not used, no socket matches the un-NATed tuple.
TEST_F(RstClassify, ConntrackInvalidWithNatSkipped) {
  auto ev = event(SKBTRAIL_RST_TCP_V4_SEND_RESET, false);
  ev.segment_flags = 0x18;
  ev.ct.valid = 1;
  ev.ct.family = 2;
  ev.ct.status = 1u << 5 | 1u << 3;  // DST_NAT | CONFIRMED
  ::inet_pton(AF_INET, "10.0.0.2", &ev.ct.orig.saddr[0]);
  ::inet_pton(AF_INET, "192.0.2.80", &ev.ct.orig.daddr[0]);
  ev.ct.orig.sport = htons(9);
  ev.ct.orig.dport = htons(80);
  ::inet_pton(AF_INET, "10.0.0.1", &ev.ct.reply.saddr[0]);
  ::inet_pton(AF_INET, "10.0.0.2", &ev.ct.reply.daddr[0]);
  ev.ct.reply.sport = htons(40000);
  ev.ct.reply.dport = htons(9);
  std::strcpy(ev.ct.message, "SEQ is over upper bound %u (over the window of the receiver)");
  auto out = classify(ev, {0xffffffff81000010, 0xffffffff81001234});
  EXPECT_NE(out.find("\"rule\":\"conntrack-invalid-nat-skipped\""), std::string::npos) << out;
  EXPECT_NE(out.find("INVALID, NAT skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("dnat entry 10.0.0.2:9 -> 192.0.2.80:80 was not applied"), std::string::npos) << out;
  EXPECT_NE(out.find("(reply 10.0.0.1:40000 -> 10.0.0.2:9, DNAT skipped)"), std::string::npos) << out;
  EXPECT_NE(out.find("answering PSH,ACK"), std::string::npos) << out;
  EXPECT_NE(out.find("INVALID (SEQ is over upper bound (over the window of the receiver))"), std::string::npos) << out;
  EXPECT_NE(out.find("\"conntrack\":{\"state\":\"INVALID\""), std::string::npos) << out;
  EXPECT_NE(out.find("nf_conntrack_tcp_be_liberal=1"), std::string::npos);
  // Without NAT it is still conntrack's doing, but nothing was skipped.
  ev.ct.status = 1u << 3;
  out = classify(ev, {0xffffffff81000010, 0xffffffff81001234});
  EXPECT_NE(out.find("\"rule\":\"conntrack-invalid\""), std::string::npos) << out;
  EXPECT_EQ(out.find("skipped"), std::string::npos) << out;
  // And without conntrack evidence the same RST is a plain closed port.
  ev.ct.valid = 0;
  EXPECT_NE(classify(ev, {0xffffffff81000010, 0xffffffff81001234}).find("\"rule\":\"no-listener\""),
            std::string::npos);
}

TEST_F(RstClassify, ReasonsWinOnNewKernels) {
  const auto format = parse_tracepoint_format(
      "field:int reason;\toffset:8;\tsize:4;\tsigned:0;\n"
      "print fmt: \"%s\", __print_symbolic(REC->reason, { 1, \"NO_SOCKET\" }, { 12, \"TCP_ABORT_ON_LINGER\" })\n");
  RstReporter r(names_, rules_, ValueNames(*format.symbolic_for("reason")), false);
  auto ev = event(SKBTRAIL_RST_TP_SEND_RESET, true);
  ev.has_reason = 1;
  ev.reason = 12;
  Output text(false, MonotonicToWall(0));
  r.report(ev, {}, text);
  std::string out = text.take();
  EXPECT_NE(out.find("cause    [warn] abort (linger 0)"), std::string::npos) << out;
  EXPECT_NE(out.find("reason TCP_ABORT_ON_LINGER"), std::string::npos) << out;
  r.end(text);
  out = text.take();
  EXPECT_NE(out.find("analysis result: 1 resets"), std::string::npos);
}

}  // namespace
}  // namespace skbtrail
